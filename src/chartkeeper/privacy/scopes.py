"""SMART scopes: parse them, grant only what both sides allow, and say what a set of them permits.

SMART App Launch v2, "Scopes and Launch Context":
https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html. Resource scopes are
``<context>/<type>.<permissions>`` with context ``patient``, ``user`` or ``system``, type a FHIR
resource type or ``*``, and permissions the letters of ``cruds`` in that order (v2) or the v1
words ``read`` (= ``rs``), ``write`` (= ``cud``) and ``*`` (= ``cruds``). Fine-grained v2 scopes
(``patient/Observation.rs?category=...``) are parsed but never granted yet: their query is not
enforced, so granting one would grant more than it says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chartkeeper.core.errors import InvalidError

CONTEXTS = ("patient", "user", "system")
#: Interaction name → SMART v2 permission letter.
INTERACTIONS = {"create": "c", "read": "r", "update": "u", "delete": "d", "search": "s"}
PERMISSION_ORDER = "cruds"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
#: Non-resource scopes chartkeeper grants.
GRANTABLE_SPECIAL = frozenset({"launch/patient", "offline_access"})
#: Non-resource scopes recognised in requests but never granted (no id_token, no EHR launch yet).
KNOWN_SPECIAL = GRANTABLE_SPECIAL | {
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/encounter",
    "online_access",
}
_RESOURCE_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})"
    r"\.(?P<permissions>[a-z*]+)(?:\?(?P<constraint>[^\s?]+))?$"
)
_V2_PERMISSIONS = re.compile(r"^c?r?u?d?s?$")


class InvalidScopeError(InvalidError):
    """A scope is malformed, unknown, or wider than what was granted."""


@dataclass(frozen=True)
class ResourceScope:
    """One parsed resource scope."""

    context: str  # patient, user, system
    resource_type: str  # a FHIR resource type, or "*"
    permissions: frozenset[str]  # letters of "cruds"
    constraint: str | None = None  # the query of a fine-grained v2 scope (not enforced)

    def text(self) -> str:
        """The scope in SMART v2 form."""
        letters = "".join(p for p in PERMISSION_ORDER if p in self.permissions)
        query = f"?{self.constraint}" if self.constraint else ""
        return f"{self.context}/{self.resource_type}.{letters}{query}"

    def covers(self, other: ResourceScope, letter: str) -> bool:
        """True when this scope grants ``letter`` on everything ``other`` names."""
        return (
            self.constraint is None
            and self.context == other.context
            and self.resource_type in ("*", other.resource_type)
            and letter in self.permissions
        )


def parse_scope(text: str) -> ResourceScope | str:
    """One scope: a ``ResourceScope``, or the text of a known non-resource scope."""
    if text in KNOWN_SPECIAL:
        return text
    match = _RESOURCE_SCOPE.fullmatch(text)
    if match is None:
        raise InvalidScopeError(f"Unknown scope {text!r}")
    raw = match["permissions"]
    letters = V1_PERMISSIONS.get(raw, raw)
    if not letters or not _V2_PERMISSIONS.fullmatch(letters):
        raise InvalidScopeError(
            f"Scope {text!r}: permissions must be letters of 'cruds' in that order, "
            "or read, write or *"
        )
    return ResourceScope(match["context"], match["type"], frozenset(letters), match["constraint"])


def split_scopes(scopes: str | Iterable[str]) -> list[str]:
    """Scope texts from a space-separated string or an iterable of them (each may hold spaces)."""
    parts = [scopes] if isinstance(scopes, str) else list(scopes)
    return [token for part in parts for token in part.split()]


def parse_scopes(scopes: str | Iterable[str]) -> list[ResourceScope | str]:
    """Every scope parsed; the first malformed or unknown one raises ``InvalidScopeError``."""
    return [parse_scope(token) for token in split_scopes(scopes)]


def check_grantable(scopes: str | Iterable[str]) -> frozenset[str]:
    """The scopes a client may be registered with; refuses ones chartkeeper never grants."""
    result: set[str] = set()
    for token in split_scopes(scopes):
        parsed = parse_scope(token)
        if isinstance(parsed, str) and parsed not in GRANTABLE_SPECIAL:
            raise InvalidScopeError(f"Scope {token!r} is not supported by this server")
        if isinstance(parsed, ResourceScope) and parsed.constraint is not None:
            raise InvalidScopeError(f"Fine-grained scope {token!r} is not supported yet")
        result.add(token)
    return frozenset(result)


def _resource_scopes(scopes: Iterable[str]) -> list[ResourceScope]:
    parsed = (parse_scope(token) for token in split_scopes(scopes))
    return [s for s in parsed if isinstance(s, ResourceScope) and s.constraint is None]


def _intersect(wanted: ResourceScope, allowed: ResourceScope) -> ResourceScope | None:
    if allowed.constraint is not None or wanted.context != allowed.context:
        return None
    if allowed.resource_type not in ("*", wanted.resource_type):
        if wanted.resource_type != "*":
            return None
        kind = allowed.resource_type
    else:
        kind = wanted.resource_type
    letters = wanted.permissions & allowed.permissions
    return ResourceScope(wanted.context, kind, letters) if letters else None


def narrow(requested: str | Iterable[str], allowed: str | Iterable[str]) -> frozenset[str]:
    """What to grant: the part of each requested scope that the allowed scopes also give.

    A requested scope wholly inside what is allowed is granted as written (v1 text stays v1);
    one partly inside is granted only that part, in v2 form (``patient/*.cruds`` against
    ``patient/Observation.rs`` gives ``patient/Observation.rs``). Malformed requests raise.
    """
    allowed_tokens = set(split_scopes(allowed))
    allowed_resources = _resource_scopes(allowed_tokens)
    granted: set[str] = set()
    for token in split_scopes(requested):
        parsed = parse_scope(token)
        if isinstance(parsed, str):
            if parsed in GRANTABLE_SPECIAL and parsed in allowed_tokens:
                granted.add(parsed)
        elif parsed.constraint is None:
            if is_within(parsed, allowed_resources):
                granted.add(token)
                continue
            parts = (_intersect(parsed, a) for a in allowed_resources)
            granted.update(p.text() for p in parts if p is not None)
    return frozenset(granted)


def is_within(scope: ResourceScope, granted: Iterable[ResourceScope]) -> bool:
    """True when every permission of ``scope`` on what it names is given by ``granted``."""
    pool = list(granted)
    if scope.constraint is not None:
        return False
    return all(any(g.covers(scope, letter) for g in pool) for letter in scope.permissions)


def ensure_within(requested: str | Iterable[str], granted: str | Iterable[str]) -> frozenset[str]:
    """``requested`` unchanged when ``granted`` covers all of it; refuses the first wider scope."""
    granted_tokens = set(split_scopes(granted))
    granted_resources = _resource_scopes(granted_tokens)
    tokens = split_scopes(requested)
    for token in tokens:
        parsed = parse_scope(token)
        wider = (
            parsed not in granted_tokens
            if isinstance(parsed, str)
            else not is_within(parsed, granted_resources)
        )
        if wider:
            held = " ".join(sorted(granted_tokens)) or "nothing"
            raise InvalidScopeError(f"Scope {token!r} is wider than granted ({held})")
    return frozenset(tokens)


def allowing_contexts(
    scopes: Iterable[str], resource_type: str, interaction: str
) -> frozenset[str]:
    """The contexts (patient, user, system) whose scopes allow ``interaction`` on the type.

    The caller applies what each context means: ``patient/`` scopes reach only the launch
    patient's compartment, ``user/`` scopes what the user may see, ``system/`` what the client
    may see. Malformed scopes in ``scopes`` allow nothing (they were checked when granted).
    """
    letter = INTERACTIONS.get(interaction, interaction)
    if letter not in PERMISSION_ORDER or len(letter) != 1:
        raise ValueError(f"Unknown interaction {interaction!r}")
    contexts: set[str] = set()
    for token in scopes:
        try:
            parsed = parse_scope(token)
        except InvalidScopeError:
            continue
        if (
            isinstance(parsed, ResourceScope)
            and parsed.constraint is None
            and parsed.resource_type in ("*", resource_type)
            and letter in parsed.permissions
        ):
            contexts.add(parsed.context)
    return frozenset(contexts)


def scope_allows(scopes: Iterable[str], resource_type: str, interaction: str) -> bool:
    """True when some scope allows ``interaction`` (create/read/update/delete/search or c/r/u/d/s)
    on ``resource_type``."""
    return bool(allowing_contexts(scopes, resource_type, interaction))


_VERBS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
_WHOSE = {"patient": "your", "user": "the", "system": "all"}
_SPECIAL_TEXT = {
    "launch/patient": "know which patient record you are signed in for",
    "offline_access": "keep access after you close the app, until you revoke it",
}


def describe(scope: str) -> str:
    """A plain-language line for the approval page."""
    parsed = parse_scope(scope)
    if isinstance(parsed, str):
        return _SPECIAL_TEXT.get(parsed, parsed)
    verbs = [_VERBS[p] for p in PERMISSION_ORDER if p in parsed.permissions]
    what = "records" if parsed.resource_type == "*" else f"{parsed.resource_type} records"
    return f"{', '.join(verbs)} {_WHOSE[parsed.context]} {what}"
