"""A compiled subset of FHIRPath, so indexing does not run a full FHIRPath engine per value.

Search parameter expressions (http://hl7.org/fhir/R4/search.html#table) are nearly all dotted
paths with ``|``, ``as``/``ofType`` on choice elements and simple ``where`` filters. Each is
compiled once, against the R4 type model shipped with ``fhirpathpy``, into ``Branch``es: plain
key lookups over JSON dicts that know the FHIR type of what they yield. Anything else falls
back to ``fhirpathpy`` (see ``Program.fast``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

_MODEL: dict[str, Any] = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_PARENT: dict[str, str] = _MODEL["type2Parent"]
#: Paths of backbone elements, which the model lists only through their children.
_BACKBONES = {p.rsplit(".", 1)[0] for p in _PATH2TYPE} | {p.rsplit(".", 1)[0] for p in _CHOICES}
_SYSTEM_TYPES = {"System.String": "string", "System.Boolean": "boolean"}
_PRIMITIVES = {"Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal",
               "Id", "Instant", "Integer", "Markdown", "Oid", "PositiveInt", "String", "Time",
               "UnsignedInt", "Uri", "Url", "Uuid"}  # fmt: skip
_COMMON_BASES = ("Resource", "DomainResource")
_REFERENCE = re.compile(
    r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+)|"
                    r"(?P<id>%?[A-Za-z_][A-Za-z0-9_]*)|(?P<op>!=|[.()|\[\]=,]))")  # fmt: skip

KEY, FILTER, INDEX = 0, 1, 2
Op = tuple[int, Any]


class UnsupportedError(Exception):
    """The expression uses FHIRPath beyond what the compiler handles."""


def parse_reference(ref: object) -> tuple[str, str] | None:
    """``(type, id)`` of ``Type/id``, ``Type/id/_history/n`` or ``http://x/Type/id``."""
    match = _REFERENCE.search(ref) if isinstance(ref, str) and not ref.startswith("#") else None
    return (match["type"], match["id"]) if match else None


@dataclass(frozen=True)
class Branch:
    """One straight path: JSON key lookups and filters, yielding values of one FHIR type."""

    ops: tuple[Op, ...]
    fhir_type: str
    ctx: str  # where children of the yielded values are looked up in the model

    def values(self, root: Any) -> list[Any]:
        """The values this path selects from ``root`` (lists flattened, nulls kept)."""
        nodes = [root]
        for kind, arg in self.ops:
            if kind == KEY:
                found: list[Any] = []
                for node in nodes:
                    value = node.get(arg) if isinstance(node, dict) else None
                    if type(value) is list:
                        found.extend(value)
                    elif value is not None:
                        found.append(value)
                nodes = found
            elif kind == FILTER:
                nodes = [node for node in nodes if arg(node)]
            else:
                nodes = nodes[arg : arg + 1]
            if not nodes:
                break
        return nodes


@dataclass
class Program:
    """A compiled expression: fast branches, or a ``fhirpathpy`` fallback (``fast`` False)."""

    expression: str
    branches: tuple[Branch, ...] = ()
    truthy: bool = False  # ``X.exists() and X != false``: one boolean
    fallback: Callable[[Any], list[Any]] | None = None
    reason: str = ""
    fast: bool = field(init=False)

    def __post_init__(self) -> None:
        self.fast = self.fallback is None

    def typed_values(self, root: Any) -> list[tuple[Any, str]]:
        """Every value with its FHIR type (guessed from its shape for the fallback)."""
        if self.fallback is not None:
            return [(value, guess_type(value)) for value in self.fallback(root)]
        if self.truthy:
            found = [v for b in self.branches for v in b.values(root)]
            return [(any(v is not False for v in found), "boolean")]
        return [(v, b.fhir_type) for b in self.branches for v in b.values(root) if v is not None]


def compile_expression(expression: str, resource_type: str, context: str | None = None) -> Program:
    """Compile ``expression`` for ``resource_type``; relative to ``context`` when given."""
    try:
        truthy = re.fullmatch(r"(\S+)\.exists\(\) and \1 != false", expression)
        text = truthy[1] if truthy else expression
        chains = _Parser(text).parse()
        branches = [b for chain in chains for b in _type_chain(chain, resource_type, context)]
        return Program(expression, tuple(branches), truthy=bool(truthy))
    except UnsupportedError as error:
        return Program(expression, fallback=_fallback(expression, resource_type), reason=str(error))


# -- parsing ---------------------------------------------------------------------------------

Step = tuple[str, Any]  # (child|cast|resolve|where|ext|index, argument)


class _Parser:
    """Recursive descent over the supported grammar; a union yields several chains."""

    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        tokens, pos = [], 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise UnsupportedError(f"cannot read {text[pos:]!r}")
            tokens.append(match.group(match.lastgroup or 0))
            pos = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise UnsupportedError(f"expected {expected or 'more'} at {token!r}")
        self.pos += 1
        return token

    def parse(self) -> list[list[Step]]:
        chains = self.union()
        if self.peek() is not None:
            raise UnsupportedError(f"unsupported operator {self.peek()!r}")
        return chains

    def union(self) -> list[list[Step]]:
        chains = self.term()
        while self.peek() == "|":
            self.take()
            chains += self.term()
        return chains

    def term(self) -> list[list[Step]]:
        if self.peek() == "(":
            self.take()
            chains = self.union()
            self.take(")")
        else:
            chains = [[("child", self.identifier())]]
        while self.peek() in (".", "["):
            step = self.member() if self.take() == "." else self.indexer()
            chains = [[*chain, step] for chain in chains]
        if self.peek() in ("as", "is"):
            if self.take() == "is":
                raise UnsupportedError("'is' operator")
            cast = ("cast", self.identifier())
            chains = [[*chain, cast] for chain in chains]
        return chains

    def indexer(self) -> Step:
        token = self.take()
        self.take("]")
        if not token.isdigit():
            raise UnsupportedError(f"index {token!r}")
        return ("index", int(token))

    def identifier(self) -> str:
        token = self.take()
        if not re.fullmatch(r"[A-Za-z_]\w*", token):
            raise UnsupportedError(f"unsupported term {token!r}")
        return token

    def member(self) -> Step:
        name = self.identifier()
        if self.peek() != "(":
            return ("child", name)
        self.take("(")
        if name in ("as", "ofType"):
            return ("cast", self._close_identifier())
        if name == "first":
            self.take(")")
            return ("index", 0)
        if name == "extension" and (url := self.take()).startswith("'"):
            self.take(")")
            return ("ext", url[1:-1])
        if name == "where":
            return self.where()
        raise UnsupportedError(f"function {name}()")

    def _close_identifier(self) -> str:
        name = self.identifier()
        self.take(")")
        return name

    def where(self) -> Step:
        if self.peek() == "resolve":
            for token in ("resolve", "(", ")", "is"):
                self.take(token)
            return ("resolve", self._close_identifier())
        keys = [self.identifier()]
        while self.peek() == ".":
            self.take()
            keys.append(self.identifier())
        self.take("=")
        literal = self.take()
        if not literal.startswith("'"):
            raise UnsupportedError(f"where() with {literal!r}")
        self.take(")")
        return ("where", (tuple(keys), literal[1:-1]))


# -- typing against the R4 model --------------------------------------------------------------

_Partial = tuple[tuple[Op, ...], str, str]  # ops, fhir type, ctx


def _type_chain(chain: list[Step], resource_type: str, context: str | None) -> list[Branch]:
    partials: list[_Partial] = [((), resource_type, context or resource_type)]
    steps = chain
    if context is None:
        root = chain[0][1]
        if root in (resource_type, *_COMMON_BASES):
            steps = chain[1:]
        elif root in _PARENT:
            return []  # another base's path in a shared expression
        # else a path on the resource itself (InsurancePlan-name is ``name | alias``)
    for step in steps:
        partials = [p for partial in partials for p in _apply(partial, step)]
    return [Branch(ops, fhir_type, ctx) for ops, fhir_type, ctx in partials]


def _apply(partial: _Partial, step: Step) -> list[_Partial]:
    ops, fhir_type, ctx = partial
    kind, arg = step
    if kind == "child":
        return [((*ops, (KEY, key)), t, c) for key, t, c in lookup(ctx, arg)]
    if kind == "cast":
        return [partial] if is_a(fhir_type, arg) else []
    if kind == "index":
        return [((*ops, (INDEX, arg)), fhir_type, ctx)]
    if kind == "resolve":
        return [((*ops, (FILTER, _resolves_to(arg))), fhir_type, ctx)]
    if kind == "ext":
        ((key, _, ext_ctx),) = lookup(ctx, "extension")
        url_filter = _equals(("url",), arg)
        return [((*ops, (KEY, key), (FILTER, url_filter)), "Extension", ext_ctx)]
    keys, literal = arg
    sub_ctx = ctx
    for key in keys:  # validate the filter's path
        found = lookup(sub_ctx, key)
        if len(found) != 1:
            raise UnsupportedError(f"where() on choice element {key}")
        sub_ctx = found[0][2]
    return [((*ops, (FILTER, _equals(keys, literal))), fhir_type, ctx)]


def lookup(ctx: str, name: str) -> list[tuple[str, str, str]]:
    """``(json key, FHIR type, child context)`` of element ``name`` of ``ctx`` (a type/path)."""
    path = f"{ctx}.{name}"
    if path in _CHOICES:
        return [_choice(path, name, option) for option in _CHOICES[path]]
    if path in _PATH2TYPE:
        fhir_type = _SYSTEM_TYPES.get(_PATH2TYPE[path], _PATH2TYPE[path])
        return [(name, fhir_type, fhir_type)]
    if path in _ELSEWHERE:
        return [(name, "BackboneElement", _ELSEWHERE[path])]
    if path in _BACKBONES:
        return [(name, "BackboneElement", path)]
    parent = _PARENT.get(ctx) or ("BackboneElement" if "." in ctx else None)
    if parent is None:
        raise UnsupportedError(f"unknown element {path}")
    return lookup(parent, name)


def _choice(path: str, name: str, option: str) -> tuple[str, str, str]:
    key = name + option
    fhir_type = _PATH2TYPE.get(path + option)
    if fhir_type is None:
        fhir_type = option[0].lower() + option[1:] if option in _PRIMITIVES else option
    return (key, fhir_type, fhir_type)


def is_a(fhir_type: str, wanted: str) -> bool:
    """Whether ``fhir_type`` is ``wanted`` or derives from it (``Age`` is a ``Quantity``)."""
    current: str | None = fhir_type
    while current is not None:
        if current.lower() == wanted.lower():
            return True
        current = _PARENT.get(current)
    return False


def _resolves_to(target: str) -> Callable[[Any], bool]:
    def check(node: Any) -> bool:
        found = parse_reference(node.get("reference")) if isinstance(node, dict) else None
        return found is not None and found[0] == target

    return check


def _equals(keys: tuple[str, ...], literal: str) -> Callable[[Any], bool]:
    branch = Branch(tuple((KEY, key) for key in keys), "string", "string")

    def check(node: Any) -> bool:
        return literal in branch.values(node)

    return check


# -- fallback ---------------------------------------------------------------------------------

_create_node: Callable[..., Any] = ResourceNode.create_node
_DATE_LIKE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-][\d:]+)?)?)?)?")
_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
#: a key that only one datatype has, first match wins
_SHAPES = (("reference", "Reference"), ("coding", "CodeableConcept"), ("family", "HumanName"),
           ("given", "HumanName"), ("line", "Address"), ("city", "Address"),
           ("currency", "Money"), ("low", "Range"), ("high", "Range"), ("start", "Period"),
           ("end", "Period"), ("event", "Timing"), ("repeat", "Timing"), ("unit", "Quantity"),
           ("display", "Coding"), ("code", "Coding"), ("text", "CodeableConcept"))  # fmt: skip


def guess_type(value: Any) -> str:
    """The FHIR type an untyped (fallback) value most likely has, from its shape."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "decimal"
    if isinstance(value, str):
        return "dateTime" if _DATE_LIKE.fullmatch(value) else "string"
    if not isinstance(value, dict):
        return "Element"
    if isinstance(value.get("resourceType"), str):
        return str(value["resourceType"])
    for key, fhir_type in _SHAPES:
        if key in value:
            return fhir_type
    if isinstance(value.get("value"), int | float | Decimal):
        return "Quantity"
    return "ContactPoint" if value.get("system") in _CONTACT_SYSTEMS else "Identifier"


def _resolve(inputs: list[Any]) -> list[Any]:
    """FHIRPath ``resolve()`` without a store: a stub resource of the referenced type."""
    found = [parse_reference(i.get("reference")) if isinstance(i, dict) else None for i in inputs]
    return [_create_node({"resourceType": f[0], "id": f[1]}) for f in found if f]


FHIRPATH_OPTIONS = {"userInvocationTable": {"resolve": {"fn": _resolve, "arity": {0: []}}}}


def _fallback(expression: str, resource_type: str) -> Callable[[Any], list[Any]]:
    text = re.sub(r"\b(?:DomainResource|Resource)\.", f"{resource_type}.", expression)
    compiled = fhirpathpy.compile(text, model=_MODEL, options=FHIRPATH_OPTIONS)

    def run(root: Any) -> list[Any]:
        return list(compiled(root, None))

    return run
