"""MS-DRG grouping and MCE edits through msdrg, with the grouper version of the discharge date."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from chartkeeper.billing.drg import (
    DrgResult,
    InpatientStay,
    MceEdit,
    group,
    supported_range,
    version_on,
)
from chartkeeper.core.errors import InvalidError

SPRING_2026 = date(2026, 5, 1)


def stay(**changes: object) -> InpatientStay:
    fields: dict[str, object] = {
        "discharge_date": SPRING_2026,
        "age": 65,
        "sex": "M",
        "discharge_status": "01",
        "principal_dx": "I50.20",
        "secondary_dx": ["E11.65"],
        "procedures": [],
    }
    fields.update(changes)
    return InpatientStay(**fields)  # type: ignore[arg-type]


def test_heart_failure_without_cc_groups_to_drg_293_with_v43_1() -> None:
    result = group(stay())
    assert result == DrgResult(
        version="43.1",
        drg=293,
        mdc=5,
        description="Heart Failure and Shock without CC/MCC",
        mdc_description="Diseases and Disorders of the Circulatory System",
        return_code="OK",
        severity="NONE",
        relative_weight=None,
        mce_edits=[],
    )


def test_codes_may_come_dotted_or_not_in_any_case() -> None:
    assert group(stay(principal_dx="i5020", secondary_dx=[("e11.65", "y")])) == group(stay())


def test_a_cc_and_an_mcc_raise_the_drg_of_the_same_principal_diagnosis() -> None:
    with_cc = group(stay(secondary_dx=["E11.65", "N17.9"]))
    with_mcc = group(stay(secondary_dx=["E11.65", ("J96.01", "Y")]))
    assert (with_cc.drg, with_cc.severity) == (292, "CC")
    assert (with_mcc.drg, with_mcc.severity) == (291, "MCC")
    assert with_mcc.description == "Heart Failure and Shock with MCC"


@pytest.mark.parametrize(
    ("discharge", "version"),
    [
        (date(2022, 10, 1), 400),
        (date(2024, 9, 30), 411),
        (date(2025, 3, 31), 420),
        (date(2025, 4, 1), 421),
        (date(2025, 9, 30), 421),
        (date(2025, 10, 1), 430),
        (date(2026, 4, 1), 431),
        (date(2026, 10, 1), 440),
        (date(2027, 3, 31), 440),
    ],
)
def test_the_grouper_version_is_the_one_in_force_on_the_discharge_date(
    discharge: date, version: int
) -> None:
    assert version_on(discharge) == version


def test_the_version_used_is_reported_with_the_result() -> None:
    assert group(stay(discharge_date=date(2025, 4, 1))).version == "42.1"
    assert group(stay(discharge_date=date(2024, 10, 1))).version == "42.0"


def test_a_discharge_before_the_supported_versions_is_refused_naming_the_range() -> None:
    with pytest.raises(InvalidError) as refused:
        group(stay(discharge_date=date(2022, 9, 30)))
    assert "discharge date 2022-09-30" in refused.value.message
    assert "covers 2022-10-01 to 2027-03-31 (v40.0 to v44.0)" in refused.value.message
    assert refused.value.expression == ("discharge_date",)


def test_fy2027_discharges_group_with_v44_until_the_april_update_msdrg_lacks() -> None:
    """msdrg 1.2 ships v44.0 (from 2026-10-01) but not v44.1 (from 2027-04-01)."""
    assert supported_range() == (date(2022, 10, 1), date(2027, 3, 31))
    fy2027 = group(stay(discharge_date=date(2026, 11, 27)))
    assert (fy2027.version, fy2027.drg) == ("44.0", 293)
    with pytest.raises(InvalidError, match="2027-04-01"):
        group(stay(discharge_date=date(2027, 4, 1)))


def test_a_male_only_code_on_a_female_patient_is_a_sex_conflict_naming_the_code() -> None:
    result = group(
        stay(discharge_date=date(2024, 5, 1), sex="F", principal_dx="N40.0", secondary_dx=[])
    )
    assert result.mce_edits == [
        MceEdit("SEX_CONFLICT", "N400", "code is inconsistent with the patient's sex", "PREPAYMENT")
    ]


def test_the_sex_conflict_edit_ended_with_fy2024() -> None:
    """CMS removed the MCE sex conflict edit from October 1, 2024 (FY2025 IPPS final rule)."""
    result = group(
        stay(discharge_date=date(2024, 10, 1), sex="F", principal_dx="N40.0", secondary_dx=[])
    )
    assert result.mce_edits == []


def test_each_mce_edit_names_the_code_that_raised_it() -> None:
    result = group(
        stay(
            discharge_date=date(2024, 5, 1),
            sex="F",
            principal_dx="N40.0",
            secondary_dx=["I10", "C61", "O80"],
            procedures=["0VT00ZZ"],
        )
    )
    found = sorted((e.name, e.code) for e in result.mce_edits)
    assert found == [
        ("AGE_CONFLICT", "O80"),
        ("SEX_CONFLICT", "0VT00ZZ"),
        ("SEX_CONFLICT", "C61"),
        ("SEX_CONFLICT", "N400"),
    ]


def test_principal_diagnosis_edits_name_the_principal_and_claim_edits_no_code() -> None:
    result = group(stay(principal_dx="V00.01XA", secondary_dx=["I50.20"], discharge_status="99"))
    assert (result.drg, result.return_code) == (999, "DX_CANNOT_BE_PDX")
    assert sorted((e.name, e.code) for e in result.mce_edits) == [
        ("E_CODE_AS_PDX", "V0001XA"),
        ("INVALID_DISCHARGE_STATUS", None),
    ]


def test_a_secondary_that_repeats_the_principal_is_blamed_on_the_secondary() -> None:
    result = group(stay(secondary_dx=["I50.20"]))
    assert [(e.name, e.code) for e in result.mce_edits] == [("DUPLICATE_OF_PDX", "I5020")]


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        ({"sex": "X"}, ("sex",)),
        ({"discharge_status": "1"}, ("discharge_status",)),
        ({"age": -1}, ("age",)),
        ({"principal_dx": "I50 20!"}, ("principal_dx",)),
        ({"secondary_dx": [("E11.65", "Q")]}, ("secondary_dx[0]",)),
        ({"procedures": ["0VT0"]}, ("procedures[0]",)),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    changes: dict[str, object], expression: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidError) as refused:
        group(stay(**changes))
    assert refused.value.expression == expression


def test_concurrent_callers_share_one_grouper_and_get_the_sequential_answers() -> None:
    stays = [
        stay(secondary_dx=secondary)
        for secondary in (["E11.65"], ["N17.9"], ["J96.01"], ["I50.20"]) * 25
    ]
    expected = [group(s) for s in stays]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(group, stays)) == expected
