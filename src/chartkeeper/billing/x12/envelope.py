"""ISA/GS/ST envelopes and their control numbers for outgoing X12 (005010, TR3 appendix B).

Control numbers come from a caller-supplied `ControlNumbers`, so the caller decides where
they are kept (a database sequence in production, `SequentialControlNumbers` in tests) and a
resubmission never reuses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from chartkeeper.billing.x12.segments import Element
from chartkeeper.core.errors import InvalidError

SegmentSpec = tuple[str, Sequence[Element]]


class ControlNumbers(Protocol):
    """Source of ISA13, GS06 and ST02 control numbers."""

    def next_interchange(self) -> int:
        """The next ISA13 (1..999999999)."""
        ...

    def next_group(self) -> int:
        """The next GS06 (1..999999999)."""
        ...

    def next_transaction(self) -> int:
        """The next ST02 (1..999999999)."""
        ...


@dataclass
class SequentialControlNumbers:
    """In-memory control numbers counting up from the given last values."""

    interchange: int = 0
    group: int = 0
    transaction: int = 0

    def next_interchange(self) -> int:
        """The next ISA13."""
        self.interchange += 1
        return self.interchange

    def next_group(self) -> int:
        """The next GS06."""
        self.group += 1
        return self.group

    def next_transaction(self) -> int:
        """The next ST02."""
        self.transaction += 1
        return self.transaction


@dataclass(frozen=True)
class Envelope:
    """Who sends the interchange to whom, and when (ISA05-ISA10, ISA15, GS02-GS05)."""

    sender_id: str
    receiver_id: str
    created: datetime
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "T"
    application_sender: str = ""
    application_receiver: str = ""


def isa_segment(envelope: Envelope, control: int, repetition: str, component: str) -> SegmentSpec:
    """The fixed-width ISA segment; identifiers longer than its 15 characters are refused."""
    if len(envelope.sender_id) > 15 or len(envelope.receiver_id) > 15:
        raise InvalidError("ISA06 and ISA08 hold at most 15 characters")
    return (
        "ISA",
        (
            "00",
            " " * 10,
            "00",
            " " * 10,
            envelope.sender_qualifier,
            f"{envelope.sender_id:<15}"[:15],
            envelope.receiver_qualifier,
            f"{envelope.receiver_id:<15}"[:15],
            envelope.created.strftime("%y%m%d"),
            envelope.created.strftime("%H%M"),
            repetition,
            "00501",
            f"{control:09d}",
            "0",
            envelope.usage,
            component,
        ),
    )


def gs_segment(
    envelope: Envelope, control: int, version: str, functional_id: str = "HC"
) -> SegmentSpec:
    """The GS segment of a group of transactions: 837 claims are HC, 835 remittances HP."""
    return (
        "GS",
        (
            functional_id,
            envelope.application_sender or envelope.sender_id,
            envelope.application_receiver or envelope.receiver_id,
            envelope.created.strftime("%Y%m%d"),
            envelope.created.strftime("%H%M"),
            str(control),
            "X",
            version,
        ),
    )


def wrap_transaction(
    transaction_set: str, control: int, version: str, body: list[SegmentSpec]
) -> list[SegmentSpec]:
    """ST + body + SE with the segment count (ST and SE included)."""
    number = f"{control:04d}"
    return [
        ("ST", (transaction_set, number, version)),
        *body,
        ("SE", (str(len(body) + 2), number)),
    ]


def d8(value: date) -> str:
    """An X12 DT (CCYYMMDD) value."""
    return value.strftime("%Y%m%d")


def amount(value: Decimal) -> str:
    """An X12 R (decimal) value: no exponent, no trailing zeros after the point, no "-0"."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
