"""Rewrite references inside a transaction: ``urn:uuid:`` fullUrls and conditional references.

http://hl7.org/fhir/R4/http.html#trules — references to an entry's fullUrl become the id the
server assigned; ``Patient?identifier=x`` becomes the one resource it matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chartkeeper.core.errors import PreconditionFailedError

Resolver = Callable[[str], str | None]


def rewrite(value: Any, mapping: dict[str, str], conditional: Resolver) -> Any:
    """Return ``value`` with every ``reference`` rewritten; containers are copied in place.

    Walks with an explicit stack, in document order: a client's JSON may nest deeper than
    Python's recursion limit (validation, which refuses that, comes later).
    """
    pending: list[Any] = [value]
    while pending:
        node = pending.pop()
        children: list[Any] = []
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "reference" and isinstance(item, str):
                    node[key] = _target(item, mapping, conditional)
                elif isinstance(item, dict | list):
                    children.append(item)
        elif isinstance(node, list):
            children = [item for item in node if isinstance(item, dict | list)]
        pending.extend(reversed(children))
    return value


def _target(reference: str, mapping: dict[str, str], conditional: Resolver) -> str:
    if reference in mapping:
        return mapping[reference]
    if "?" in reference and not reference.startswith(("http://", "https://", "#")):
        resolved = conditional(reference)
        if resolved is None:
            raise PreconditionFailedError(
                f"Conditional reference '{reference}' does not match exactly one resource"
            )
        return resolved
    return reference
