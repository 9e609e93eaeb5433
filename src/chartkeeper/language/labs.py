"""Lab results and vital signs in words: what was measured and where the value sits against
its reference range, without ever naming a diagnosis.

Where a value sits (``position``):

- ``in-range``: within the range, limits included.
- ``a-little-higher`` / ``a-little-lower``: outside by at most the *margin*, the larger of 20%
  of the range's width and 10% of the crossed limit (one-sided ranges have no width, so only the
  10%). Widths alone make narrow ranges harsh (glucose 70 to 99: 5.8 mg/dL); the limit's share
  keeps 105 mg/dL "a little higher" and 115 "much higher".
- ``much-higher`` / ``much-lower``: outside by more than the margin.
- ``critical``: the lab flagged the value HH, LL or AA (HL7 v3 ObservationInterpretation),
  whatever the numbers say.
- ``no-range``: no limit given; the value is stated with the lab's own flag (H, L, A, N) if
  any, and never called normal or abnormal.
- ``as-given``: a coded or text value ("Positive", "<0.1") is stated as the lab wrote it.

With a range, the numbers decide and the lab's H/L flag is not repeated; only a critical flag
overrides them. Nothing here names a condition: the words describe the number, not its cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

DATA_FILE = "lab_lay.tsv"
MARGIN_OF_WIDTH = 0.2
MARGIN_OF_LIMIT = 0.1
CRITICAL_FLAGS = frozenset({"HH", "LL", "AA"})
CRITICAL_SENTENCE = (
    "This is far outside the usual range; your care team should talk with you about it."
)
FLAG_SENTENCES = {
    "H": "The lab marked it as higher than its usual values.",
    "L": "The lab marked it as lower than its usual values.",
    "A": "The lab marked it as outside its usual values.",
    "N": "The lab marked it as within its usual values.",
}
POSITION_WORDS = {
    "in-range": "in the usual range",
    "a-little-higher": "a little higher than the usual range",
    "a-little-lower": "a little lower than the usual range",
    "much-higher": "much higher than the usual range",
    "much-lower": "much lower than the usual range",
}
#: UCUM units as patients see them on a report.
UNITS = {
    "mm[Hg]": "mmHg",
    "/min": "per minute",
    "{beats}/min": "beats per minute",
    "{breaths}/min": "breaths per minute",
    "Cel": "°C",
    "[degF]": "°F",
    "kg/m2": "kg/m²",
    "10*3/uL": "thousand per µL",
    "10*6/uL": "million per µL",
    "ug/dL": "µg/dL",
    "uL": "µL",
    "[in_i]": "inches",
    "[lb_av]": "pounds",
    "mL/min/{1.73_m2}": "mL/min/1.73m²",
}


@dataclass(frozen=True)
class LabExplanation:
    """One result in words, where it sits (see the module docstring) and what was not known."""

    text: str
    position: str
    lay_name: str = ""
    flags: tuple[str, ...] = ()  #: "unknown-test:<name>" when the LOINC code has no lay name


@dataclass(frozen=True)
class LabTest:
    """A lay name and one plain sentence on what the test measures."""

    loinc: str
    lay_name: str
    what: str


@cache
def lab_tests() -> dict[str, LabTest]:
    """The shipped lay names by LOINC code (``data/lab_lay.tsv``)."""
    text = files("chartkeeper.language").joinpath(f"data/{DATA_FILE}").read_text("utf-8")
    tests: dict[str, LabTest] = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "loinc\t")):
            continue
        loinc, lay_name, what = line.split("\t")
        tests[loinc] = LabTest(loinc, lay_name, what)
    return tests


def result_in_words(
    name: str,
    value: float | str,
    unit: str | None,
    low: float | None,
    high: float | None,
    interpretation: str | None = None,
    loinc: str | None = None,
) -> LabExplanation:
    """What was measured and where ``value`` sits against ``low``..``high`` (either may be
    None: "<200" is ``high=200``), in plain words."""
    test = lab_tests().get((loinc or "").strip())
    lay_name = test.lay_name if test else (name.strip() or "Result")
    flags = () if test else (f"unknown-test:{name.strip()}",)
    number = _number(value)
    shown = _format(number) if number is not None else str(value).strip()
    opening = [f"{lay_name}: {shown}{_unit(unit)}."] + ([test.what] if test else [])
    code = (interpretation or "").strip().upper()
    if code in CRITICAL_FLAGS:
        position, sentence = "critical", CRITICAL_SENTENCE
    elif number is None:
        position, sentence = "as-given", "This is the result as the lab reported it."
        sentence = " ".join([sentence, FLAG_SENTENCES.get(code, "")]).strip()
    elif low is None and high is None:
        position = "no-range"
        sentence = " ".join(["No usual range was given.", FLAG_SENTENCES.get(code, "")]).strip()
    else:
        position = position_of(number, low, high)
        words = POSITION_WORDS[position]
        sentence = f"This is {words} of {_range_words(low, high, _unit(unit))}."
    return LabExplanation(" ".join([*opening, sentence]), position, lay_name, flags)


def position_of(value: float, low: float | None, high: float | None) -> str:
    """Where ``value`` sits against a range with at least one limit (module docstring)."""
    width = high - low if low is not None and high is not None else 0.0
    if high is not None and value > high:
        return _outside(value - high, high, width, "higher")
    if low is not None and value < low:
        return _outside(low - value, low, width, "lower")
    return "in-range"


def _outside(distance: float, limit: float, width: float, side: str) -> str:
    margin = max(MARGIN_OF_WIDTH * width, MARGIN_OF_LIMIT * abs(limit))
    # a value right on the margin is "a little" though binary floats put 17.6 - 16 above 1.6
    close = distance <= margin or math.isclose(distance, margin)
    return f"a-little-{side}" if close else f"much-{side}"


def _number(value: float | str) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _format(number: float) -> str:
    number = float(number)  # ints pass the float annotation too
    if number.is_integer():
        return str(int(number))
    return f"{number:.4f}".rstrip("0").rstrip(".")


def _unit(unit: str | None) -> str:
    if not unit or not unit.strip() or unit.strip() == "1":
        return ""
    shown = UNITS.get(unit.strip(), unit.strip())
    return shown if shown == "%" else f" {shown}"


def _range_words(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{_format(low)} to {_format(high)}{unit}"
    if high is not None:
        return f"{_format(high)}{unit} or less"
    return f"{_format(low)}{unit} or more" if low is not None else ""
