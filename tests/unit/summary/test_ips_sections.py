"""``latest_per_code``: one resource per code, the newest, newest first."""

from __future__ import annotations

from chartkeeper.summary.ips_sections import OBSERVED, latest_per_code


def _obs(ident: str, code: str, when: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
    }


def test_keeps_the_newest_of_each_code_newest_first() -> None:
    found = latest_per_code(
        [
            _obs("a1", "A", "2024-01-01"),
            _obs("b1", "B", "2024-06-01"),
            _obs("a2", "A", "2025-01-01"),
            _obs("a3", "A", "2023-01-01"),
            _obs("b2", "B", "2024-02-01"),
        ],
        *OBSERVED,
    )
    assert [o["id"] for o in found] == ["a2", "b1"]


def test_on_equal_dates_the_first_met_is_kept() -> None:
    found = latest_per_code(
        [_obs("x1", "A", "2024-01-01"), _obs("x2", "A", "2024-01-01"), _obs("y", "B", "")],
        *OBSERVED,
    )
    assert [o["id"] for o in found] == ["x1", "y"]


def test_the_emergency_view_flags_what_the_clinician_summary_flags() -> None:
    """A value outside its range is High even without an interpretation, as in the chart's
    summary; an interpretation wins, and Positive is said too."""
    from chartkeeper.summary.narrative import abnormal_flag
    from chartkeeper.summary.trends import abnormal_flag as summary_flag

    out_of_range = {
        "valueQuantity": {"value": 250, "unit": "mg/dL"},
        "referenceRange": [{"low": {"value": 70}, "high": {"value": 99}}],
    }
    assert summary_flag(out_of_range) == "H"
    assert abnormal_flag(out_of_range) == "High"
    critical = {**out_of_range, "interpretation": [{"coding": [{"code": "HH"}]}]}
    assert abnormal_flag(critical) == "Critical high"
    positive = {"valueString": "detected", "interpretation": [{"coding": [{"code": "POS"}]}]}
    assert abnormal_flag(positive) == "Positive"
    assert abnormal_flag({"valueQuantity": {"value": 80}}) == ""
