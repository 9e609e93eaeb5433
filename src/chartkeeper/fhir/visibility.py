"""What a caller may see of the store, as data the store applies in SQL.

The access-control layer (``privacy``) computes it; ``store.visibility_sql`` compiles it, so
every read path hides the same rows. Row conditions (``Match``, ``AllOf``, ``AnyOf``, ``Not``)
describe what a patient's Consent denies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: (system, code) of a ``meta.security`` label
Label = tuple[str, str]


# -- row conditions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Rows matching every given part: type in, any label in, reference ("Type/id") in."""

    resource_types: frozenset[str] | None = None
    security_labels: frozenset[Label] | None = None
    references: frozenset[str] | None = None


@dataclass(frozen=True)
class AllOf:
    """All items hold (``AllOf(())`` always holds)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    """Some item holds (``AnyOf(())`` never holds)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """The item does not hold."""

    item: Expr


Expr = Match | AllOf | AnyOf | Not
TRUE: Expr = AllOf(())
FALSE: Expr = AnyOf(())


@dataclass(frozen=True)
class Visibility:
    """Which stored rows a caller may see, applied in SQL so that totals, paging, includes,
    history, ``$everything`` and export never leak a hidden row.

    ``None`` fields mean "no restriction". Set by the access-control layer, never by clients.
    """

    resource_types: frozenset[str] | None = None
    #: rows in these Patients' compartments (None: any compartment)
    patient_ids: frozenset[str] | None = None
    #: rows in no compartment (Practitioner, Organization...) are visible when this is True and
    #: their type is in ``shared_types`` (None: any type)
    include_shared: bool = True
    shared_types: frozenset[str] | None = None
    #: resources carrying one of these security labels are hidden...
    hidden_labels: frozenset[Label] = frozenset()
    #: ...except these labels in these Patients' compartments (own record, grants, consent)
    visible_labels_by_patient: Mapping[str, frozenset[Label]] = field(default_factory=dict)
    #: ...and except ``author_exempt_labels`` on resources whose author is ``author_reference``
    author_reference: str | None = None
    author_exempt_labels: frozenset[Label] = frozenset()
    #: (patient id, condition): rows of that Patient matching the condition are hidden (Consent)
    denied: tuple[tuple[str, Expr], ...] = ()
