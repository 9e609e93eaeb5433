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
