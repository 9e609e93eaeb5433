"""Read and write X12 interchanges: separators, segments with positions, envelope checks.

ASC X12 005010 control structures (ISA/IEA, GS/GE, ST/SE; TR3 appendix B). Written here rather
than taken from pyx12 because pyx12 validates against its maps but is slow (about 600 claims/s)
and reports envelope problems as 999 codes, while callers need a fast reader that stops at the
first broken envelope with the segment id and its 1-based position in the interchange.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from chartkeeper.core.errors import InvalidError

#: An element value: a simple string, or a composite written with the component separator.
Element = str | tuple[str, ...]

ISA_LENGTH = 106
#: Offsets of the element separator inside the fixed-width ISA segment (after ISA01..ISA16).
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)


@dataclass
class X12Error(InvalidError):
    """Malformed X12: names the segment id and its 1-based position in the interchange."""

    segment_id: str = ""
    position: int = 0


def x12_error(segment_id: str, position: int, problem: str) -> X12Error:
    """An `X12Error` whose message and expression point at ``segment_id`` at ``position``."""
    return X12Error(
        f"{segment_id} segment at position {position}: {problem}",
        (f"{segment_id}[{position}]",),
        segment_id=segment_id,
        position=position,
    )


@dataclass(frozen=True)
class Separators:
    """The four delimiters an interchange declares in its ISA segment."""

    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"


DEFAULT_SEPARATORS = Separators()


@dataclass(frozen=True)
class Segment:
    """One segment: its id, its elements (ELEMENT01 is ``elements[0]``) and its position."""

    id: str
    elements: tuple[str, ...]
    position: int
    component_separator: str = ":"

    def get(self, number: int) -> str:
        """Element ``number`` (1-based, as in the TR3), or "" when absent."""
        return self.elements[number - 1] if 0 < number <= len(self.elements) else ""

    def components(self, number: int) -> list[str]:
        """The components of composite element ``number`` (a simple one gives one item)."""
        return self.get(number).split(self.component_separator)


def number_element(seg: Segment, number: int) -> Decimal:
    """Element ``number`` as an X12 R (decimal) value, 0 when empty; else an error naming it."""
    value = seg.get(number)
    try:
        return Decimal(value) if value else Decimal(0)
    except InvalidOperation:
        raise x12_error(seg.id, seg.position, f"element {number} is not a number") from None


def date_value(seg: Segment, value: str) -> date:
    """A CCYYMMDD value of ``seg`` as a date; else an error naming the segment. (Sliced by
    hand: ``strptime`` was a sixth of the time of posting a large 835.)"""
    try:
        if len(value) != 8 or not (value.isascii() and value.isdigit()):
            raise ValueError(value)
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise x12_error(seg.id, seg.position, f"{value!r} is not a CCYYMMDD date") from None


@dataclass
class Transaction:
    """One ST/SE transaction set: its ST, its body segments, and its SE."""

    st: Segment
    body: list[Segment] = field(default_factory=list)
    se: Segment | None = None


@dataclass
class Group:
    """One GS/GE functional group."""

    gs: Segment
    transactions: list[Transaction] = field(default_factory=list)
    ge: Segment | None = None


@dataclass
class Interchange:
    """One ISA/IEA interchange with its separators."""

    separators: Separators
    isa: Segment
    groups: list[Group] = field(default_factory=list)
    iea: Segment | None = None
    #: SE01/GE01/IEA01 count mismatches, kept here instead of raised when counts are lenient
    count_errors: list[X12Error] = field(default_factory=list)


def read_separators(text: str) -> Separators:
    """The separators of the fixed-width ISA that must open ``text``."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("ISA"):
        raise x12_error("ISA", 1, "separators cannot be read: the data does not start with ISA")
    element = head[3:4]
    if len(head) < ISA_LENGTH or any(head[i] != element for i in _ISA_SEPARATOR_OFFSETS):
        raise x12_error(
            "ISA", 1, "separators cannot be read: ISA is not 106 fixed-width characters"
        )
    seps = Separators(element, head[82], head[104], head[105])
    if len(set((seps.element, seps.repetition, seps.component, seps.segment))) < 4:
        raise x12_error("ISA", 1, "separators cannot be read: two separators are the same")
    if seps.element.isalnum() or seps.segment.isalnum():
        raise x12_error("ISA", 1, "separators cannot be read: a separator is alphanumeric")
    return seps


def read_segments(text: str) -> tuple[Separators, list[Segment]]:
    """Split ``text`` into segments numbered from 1, checking each segment identifier."""
    seps = read_separators(text)
    body = text.lstrip("\ufeff \t\r\n")
    segments: list[Segment] = []
    for raw in body.split(seps.segment):
        raw = raw.lstrip(" \t\r\n").rstrip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split(seps.element)
        position = len(segments) + 1
        seg_id = parts[0]
        if not (2 <= len(seg_id) <= 3 and seg_id.isalnum() and seg_id.isupper()):
            raise x12_error(seg_id[:3] or "(empty)", position, "bad segment identifier")
        segments.append(Segment(seg_id, tuple(parts[1:]), position, seps.component))
    return seps, segments


def read_interchanges(text: str, *, strict_counts: bool = True) -> list[Interchange]:
    """Read every interchange in ``text`` and check its envelopes (counts, control numbers).

    With ``strict_counts=False`` a wrong SE01/GE01/IEA01 count is recorded in
    `Interchange.count_errors` instead of raised: some published test files (imsweb) carry
    wrong SE counts yet are meant to be read.
    """
    seps, segments = read_segments(text)
    builder = _EnvelopeBuilder(seps, strict_counts)
    for segment in segments:
        builder.add(segment)
    return builder.finish(segments[-1] if segments else None)


class _EnvelopeBuilder:
    """Nests segments into ISA/GS/ST envelopes and checks each trailer as it closes."""

    def __init__(self, separators: Separators, strict_counts: bool = True) -> None:
        self.separators = separators
        self.strict_counts = strict_counts
        self.count_errors: list[X12Error] = []
        self.interchanges: list[Interchange] = []
        self.isa: Interchange | None = None
        self.gs: Group | None = None
        self.st: Transaction | None = None

    def add(self, seg: Segment) -> None:
        """Place one segment, opening or closing envelopes."""
        handler = _HANDLERS.get(seg.id)
        if handler is not None:
            handler(self, seg)
        elif self.st is None:
            raise x12_error(seg.id, seg.position, "segment outside a transaction set (ST/SE)")
        else:
            self.st.body.append(seg)

    def open_isa(self, seg: Segment) -> None:
        if self.isa is not None:
            raise x12_error(seg.id, seg.position, "ISA before the previous IEA")
        self.isa = Interchange(self.separators, seg)

    def open_gs(self, seg: Segment) -> None:
        if self.isa is None or self.gs is not None:
            raise x12_error(seg.id, seg.position, "GS outside an interchange or before GE")
        self.gs = Group(seg)

    def open_st(self, seg: Segment) -> None:
        if self.gs is None or self.st is not None:
            raise x12_error(seg.id, seg.position, "ST outside a group or before SE")
        self.st = Transaction(seg)

    def check_count(self, seg: Segment, name: str, counted: int) -> None:
        """Raise (or record, when lenient) a count element that disagrees with what was read."""
        if seg.get(1) == str(counted):
            return
        error = x12_error(seg.id, seg.position, f"{name} is {seg.get(1)!r}, counted {counted}")
        if self.strict_counts:
            raise error
        self.count_errors.append(error)

    def close_se(self, seg: Segment) -> None:
        st = self.st
        if st is None or self.gs is None:
            raise x12_error(seg.id, seg.position, "SE without ST")
        self.check_count(seg, "SE01", len(st.body) + 2)
        if seg.get(2) != st.st.get(2):
            raise x12_error(seg.id, seg.position, f"SE02 does not match ST02 {st.st.get(2)!r}")
        st.se = seg
        self.gs.transactions.append(st)
        self.st = None

    def close_ge(self, seg: Segment) -> None:
        gs = self.gs
        if gs is None or self.isa is None or self.st is not None:
            raise x12_error(seg.id, seg.position, "GE without GS, or before SE")
        self.check_count(seg, "GE01", len(gs.transactions))
        if seg.get(2) != gs.gs.get(6):
            raise x12_error(seg.id, seg.position, f"GE02 does not match GS06 {gs.gs.get(6)!r}")
        gs.ge = seg
        self.isa.groups.append(gs)
        self.gs = None

    def close_iea(self, seg: Segment) -> None:
        isa = self.isa
        if isa is None or self.gs is not None:
            raise x12_error(seg.id, seg.position, "IEA without ISA, or before GE")
        self.check_count(seg, "IEA01", len(isa.groups))
        if seg.get(2) != isa.isa.get(13):
            raise x12_error(seg.id, seg.position, f"IEA02 does not match ISA13 {isa.isa.get(13)!r}")
        isa.iea = seg
        isa.count_errors, self.count_errors = self.count_errors, []
        self.interchanges.append(isa)
        self.isa = None

    def finish(self, last: Segment | None) -> list[Interchange]:
        """The interchanges read; an error when one is left open."""
        if self.isa is not None or not self.interchanges:
            trailer = "SE" if self.st else "GE" if self.gs else "IEA"
            where = last.position + 1 if last else 1
            raise x12_error(trailer, where, f"missing {trailer} at the end of the data")
        return self.interchanges


_HANDLERS = {
    "ISA": _EnvelopeBuilder.open_isa,
    "GS": _EnvelopeBuilder.open_gs,
    "ST": _EnvelopeBuilder.open_st,
    "SE": _EnvelopeBuilder.close_se,
    "GE": _EnvelopeBuilder.close_ge,
    "IEA": _EnvelopeBuilder.close_iea,
}


def format_segment(
    seg_id: str, elements: Sequence[Element], seps: Separators = DEFAULT_SEPARATORS
) -> str:
    """One segment as text, trailing empty elements and components dropped (X12.6 rule).

    A value holding a separator would corrupt the file, so it is refused (ISA excepted: its
    ISA11 and ISA16 are the separators themselves).
    """
    flat = [v if isinstance(v, str) else "".join(v) for v in elements]
    if seg_id != "ISA" and _separator_pattern(seps).search("".join(flat)):
        raise InvalidError(f"a value in {seg_id} contains an X12 separator")
    values = [
        v if isinstance(v, str) else seps.component.join(v).rstrip(seps.component) for v in elements
    ]
    while values and not values[-1]:
        values.pop()
    return seps.element.join((seg_id, *values)) + seps.segment


@functools.cache
def _separator_pattern(seps: Separators) -> re.Pattern[str]:
    chars = (seps.element, seps.component, seps.segment, seps.repetition)
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def write_segments(
    segments: Iterable[tuple[str, Sequence[Element]]], seps: Separators = DEFAULT_SEPARATORS
) -> str:
    """Segments as text, one after the other, each ended by the segment terminator."""
    return "".join(format_segment(seg_id, elements, seps) for seg_id, elements in segments)
