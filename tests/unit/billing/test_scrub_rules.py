"""Each scrubber rule on a clean claim and on claims it must flag (fixture tables on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType

import pytest

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rules import (
    charges,
    code_validity,
    coding_conventions,
    diagnosis_pointers,
    duplicates,
    mce_edits,
    medical_necessity,
    mue,
    ncci_ptp,
    required_fields,
    timely_filing,
)
from chartkeeper.billing.scrub.signature import claim_signature
from chartkeeper.billing.x12.claim_model import Person, Provider
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.data.scrub.builders import (
    ADDRESS,
    BILLING,
    DATA,
    DOS,
    PERSON,
    claim,
    institutional,
    line,
    load,
)
from tests.unit.billing.data.scrub.duplicates import MemoryDuplicates

Found = list[tuple[str, str, str]]


@pytest.fixture(scope="module")
def index() -> MemoryDuplicates:
    return MemoryDuplicates()


@pytest.fixture(scope="module")
def context(
    tmp_path_factory: pytest.TempPathFactory, index: MemoryDuplicates
) -> Iterator[ScrubContext]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('scrub')}/codes.db")
    upgrade(engine)
    registry = CodeRegistry(engine)
    load(registry)
    yield ScrubContext(registry, timely_filing={"SHORT": 90}, duplicates=index)
    engine.dispose()


def issues(rule: ModuleType, scrub: ScrubClaim, context: ScrubContext) -> list[Issue]:
    found = list(rule.check(scrub, context))
    assert all(issue.rule == rule.RULE.id for issue in found)
    return found


def where(rule: ModuleType, scrub: ScrubClaim, context: ScrubContext) -> Found:
    """(rule id, severity, location) of each issue, sorted."""
    return sorted((i.rule, i.severity, i.location) for i in issues(rule, scrub, context))


ALL_RULES = [
    required_fields,
    diagnosis_pointers,
    code_validity,
    mce_edits,
    coding_conventions,
    ncci_ptp,
    mue,
    medical_necessity,
    charges,
    timely_filing,
    duplicates,
]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda m: m.RULE.id)
def test_a_clean_claim_passes_every_rule(rule: ModuleType, context: ScrubContext) -> None:
    assert issues(rule, claim(), context) == []
    assert issues(rule, institutional(), context) == []


def test_required_fields_names_each_missing_or_invalid_field(context: ScrubContext) -> None:
    person = replace(PERSON, birth_date=None, gender="X", member_id="", address=None)
    billing = replace(BILLING, npi="1234567890", tin="")
    scrub = claim(
        billing=billing,
        subscriber=replace(claim().claim.subscriber, person=person),
        referring=Provider("ROE", "1245319598"),
        diagnoses=(),
    )
    assert where(required_fields, scrub, context) == [
        ("required-fields", "error", "billing_provider.npi"),
        ("required-fields", "error", "billing_provider.tin"),
        ("required-fields", "error", "claim"),
        ("required-fields", "error", "referring.npi"),
        ("required-fields", "error", "subscriber.person.address"),
        ("required-fields", "error", "subscriber.person.birth_date"),
        ("required-fields", "error", "subscriber.person.gender"),
        ("required-fields", "error", "subscriber.person.member_id"),
    ]
    [npi] = [i for i in issues(required_fields, scrub, context) if i.location.endswith(".npi")][:1]
    assert npi.message == "The billing provider NPI 1234567890 is not a valid NPI (check digit)"


def test_a_dependant_needs_demographics_and_the_subscriber_a_name_and_member_id(
    context: ScrubContext,
) -> None:
    subscriber = replace(PERSON, birth_date=None, address=None, gender="")
    child = Person("DOE", "KIM", None, "F", PERSON.address)
    scrub = claim(patient=child, subscriber=replace(claim().claim.subscriber, person=subscriber))
    assert where(required_fields, scrub, context) == [
        ("required-fields", "error", "patient.birth_date")
    ]


def test_an_institutional_claim_needs_statement_dates_attending_and_revenue_codes(
    context: ScrubContext,
) -> None:
    scrub = claim(line(service_date=None), line("", revenue_code="0110"), kind="837I")
    assert where(required_fields, scrub, context) == [
        ("required-fields", "error", "attending.npi"),
        ("required-fields", "error", "claim.statement_from"),
        ("required-fields", "error", "claim.statement_to"),
        ("required-fields", "error", "line[0].revenue_code"),
        ("required-fields", "error", "line[0].service_date"),
    ]


def test_diagnosis_pointers_must_point_at_the_claims_diagnoses(context: ScrubContext) -> None:
    scrub = claim(
        line(diagnosis_pointers=(1, 3)),
        line("J1885", diagnosis_pointers=(1, 1, 1, 1, 1)),
        line("G0009", diagnosis_pointers=()),
    )
    assert where(diagnosis_pointers, scrub, context) == [
        ("diagnosis-pointers", "error", "line[0].diagnosis_pointers"),
        ("diagnosis-pointers", "error", "line[1].diagnosis_pointers"),
        ("diagnosis-pointers", "error", "line[2].diagnosis_pointers"),
    ]
    many = claim(diagnoses=tuple(["E11.9"] * 13))
    assert where(diagnosis_pointers, many, context) == [
        ("diagnosis-pointers", "error", "diagnosis[12]")
    ]
    assert where(diagnosis_pointers, replace(many, kind="837I"), context) == []


def test_code_validity_flags_unknown_header_and_terminated_codes(context: ScrubContext) -> None:
    scrub = claim(
        line("J9999"),
        line("G0001"),
        line(modifiers=("LT", "ZZ", "")),
        diagnoses=("E11", "Z99.99", "S02.30A"),
    )
    found = issues(code_validity, scrub, context)
    assert sorted((i.severity, i.location, i.code) for i in found) == [
        ("error", "diagnosis[0]", "E11"),
        ("error", "diagnosis[1]", "Z9999"),
        ("error", "diagnosis[2]", "S0230A"),
        ("error", "line[0].procedure_code", "J9999"),
        ("error", "line[1].procedure_code", "G0001"),
        ("error", "line[2].modifiers", "ZZ"),
    ]
    messages = {i.code: i.message for i in found}
    assert messages["G0001"] == (
        "HCPCS code G0001 was terminated on 2012-12-31, before the date of service"
    )
    assert messages["S0230A"] == "S02.30A lacks the placeholder X before its 7th character"
    assert messages["E11"] == "E11 is a header, not a billable code"


def test_cpt_codes_are_reported_once_as_not_checked(context: ScrubContext) -> None:
    scrub = claim(line("00000"), line("00001"), line("G0008", modifiers=("59",)))
    [found] = issues(code_validity, scrub, context)
    assert (found.severity, found.location, found.message) == (
        "information",
        "line[0].procedure_code",
        "CPT codes are not checked: CPT is licensed by the AMA and not loaded",
    )


def test_no_code_set_for_the_date_is_a_warning(context: ScrubContext) -> None:
    hcpcs_gap = claim(line(service_date=date(2025, 12, 1)))
    [found] = issues(code_validity, hcpcs_gap, context)
    assert (found.severity, found.location) == ("warning", "claim")
    assert found.message == "No HCPCS version is loaded for 2025-12-01: codes were not checked"
    icd_gap = claim(line(service_date=date(2025, 9, 1)))
    assert ("code-validity", "warning", "claim") in where(code_validity, icd_gap, context)
    assert any("No ICD-10-CM version" in i.message for i in issues(code_validity, icd_gap, context))


def test_mce_edits_on_principal_diagnosis_and_age(context: ScrubContext) -> None:
    manifestation = claim(diagnoses=("G63", "E85.4"))
    assert where(mce_edits, manifestation, context) == [("mce-edits", "error", "diagnosis[0]")]
    newborn = claim(diagnoses=("E11.9", "P07.00"))
    [age] = issues(mce_edits, newborn, context)
    assert (age.location, age.message) == (
        "diagnosis[1]",
        "P07.00 is a newborn code (ages 0-0); the patient is 66",
    )
    unacceptable = institutional(line(), diagnoses=("Z38.00",))
    assert where(mce_edits, unacceptable, context) == [("mce-edits", "error", "diagnosis[0]")]
    # the unacceptable-principal list is about admissions: a visit's first-listed reason is free
    assert where(mce_edits, claim(diagnoses=("Z38.00",)), context) == []


def test_mce_sex_edit_reads_the_patients_gender(context: ScrubContext) -> None:
    male = Person("DOE", "JOHN", date(1960, 5, 1), "M", PERSON.address, "M2")
    before = claim(
        line(service_date=date(2024, 9, 1)),
        diagnoses=("O80",),
        subscriber=replace(claim().claim.subscriber, person=male),
    )
    assert where(mce_edits, before, context) == [("mce-edits", "error", "diagnosis[0]")]


def test_coding_conventions_excludes1_and_etiology_first(context: ScrubContext) -> None:
    assert where(coding_conventions, claim(diagnoses=("E10.9", "E11.9")), context) == [
        ("coding-conventions", "error", "diagnosis[0]"),
        ("coding-conventions", "error", "diagnosis[1]"),
    ]
    [etiology] = issues(coding_conventions, claim(diagnoses=("E11.9", "G63")), context)
    assert etiology.location == "diagnosis[1]"
    assert etiology.message == "G63 is a manifestation code without its etiology coded before it"
    assert issues(coding_conventions, claim(diagnoses=("E85.4", "G63")), context) == []


def test_ncci_ptp_edits_by_modifier_indicator(context: ScrubContext) -> None:
    plain = claim(line("G0463"), line("J1885"))
    [found] = issues(ncci_ptp, plain, context)
    assert (found.severity, found.location, found.code) == (
        "error",
        "line[1].procedure_code",
        "J1885",
    )
    assert found.message.startswith("J1885 is not payable with G0463 on the same day")
    assert issues(ncci_ptp, claim(line("G0463"), line("J1885", modifiers=("XS",))), context) == []
    assert issues(ncci_ptp, claim(line("G0463", modifiers=("59",)), line("J1885")), context) == []
    never = claim(line("G0463"), line("J3490", modifiers=("59",)))
    assert where(ncci_ptp, never, context) == [("ncci-ptp", "error", "line[1].procedure_code")]


def test_ncci_ptp_ignores_deleted_edits_indicator_9_and_other_days(context: ScrubContext) -> None:
    assert issues(ncci_ptp, claim(line("A0428"), line("A0425")), context) == []  # deleted 2025
    assert issues(ncci_ptp, claim(line("G0008"), line("G0009")), context) == []  # indicator 9
    other_day = claim(line("G0463"), line("J1885", service_date=DOS + timedelta(days=1)))
    assert issues(ncci_ptp, other_day, context) == []
    before_table = claim(
        line("G0463", service_date=date(2026, 6, 30)),
        line("J1885", service_date=date(2026, 6, 30)),
    )
    assert issues(ncci_ptp, before_table, context) == []  # the 2026Q3 table starts 07-01


def test_ncci_ptp_reads_the_outpatient_table_for_institutional_claims(
    context: ScrubContext,
) -> None:
    assert issues(ncci_ptp, institutional(line("G0463"), line("J1885")), context) == []


def test_mue_line_and_date_of_service_limits(context: ScrubContext) -> None:
    one = Decimal(1)
    scrub = claim(
        line("A0428", units=Decimal(2)),
        line("G0463", units=one),
        line("G0463", units=one, modifiers=("LT",)),
        line("J1885", units=Decimal(5)),
        line("J1885", units=Decimal(3)),
        line("J3490", units=Decimal(99)),
    )
    found = issues(mue, scrub, context)
    assert sorted((i.severity, i.location, i.code) for i in found) == [
        ("error", "line[0].units", "A0428"),
        ("error", "line[1].units", "G0463"),
    ]
    assert {i.code: i.message for i in found}["G0463"] == (
        "2 units of G0463 on 2026-07-15 exceed the MUE of 1 per day"
    )
    over = claim(line("J1885", units=Decimal(5)), line("J1885", units=Decimal(4)))
    assert where(mue, over, context) == [("mue", "error", "line[0].units")]


def test_medical_necessity_needs_a_covered_pointed_diagnosis(context: ScrubContext) -> None:
    uncovered = claim(line("J1885"), diagnoses=("E85.4",))
    [found] = issues(medical_necessity, uncovered, context)
    assert (found.severity, found.location) == ("error", "line[0].diagnosis_pointers")
    assert found.message == (
        "J1885 is not covered for the diagnoses on this line under policy L99901 "
        "(Synthetic ketorolac policy)"
    )
    second = claim(line("J1885", diagnosis_pointers=(2,)), diagnoses=("E85.4", "E11.9"))
    assert issues(medical_necessity, second, context) == []
    ambulance = claim(line("A0428"), diagnoses=("S02.30XA",))
    assert issues(medical_necessity, ambulance, context) == []
    assert len(issues(medical_necessity, claim(line("A0428")), context)) == 1
    before_policy = claim(line("J1885", service_date=date(2025, 12, 1)), diagnoses=("E85.4",))
    assert issues(medical_necessity, before_policy, context) == []


def test_charges_units_and_dates(context: ScrubContext) -> None:
    scrub = claim(
        line(charge=Decimal(0)),
        line("J1885", units=Decimal(0)),
        line("G0009", charge=Decimal("250000.00")),
        line("J3490", service_date=date(2026, 9, 1)),
        line("A0425", service_date=date(1950, 1, 1)),
    )
    assert where(charges, scrub, context) == [
        ("charges", "error", "line[0].charge"),
        ("charges", "error", "line[1].units"),
        ("charges", "error", "line[3].service_date"),
        ("charges", "error", "line[4].service_date"),
        ("charges", "warning", "line[2].charge"),
    ]
    backwards = institutional(statement_from=DOS, statement_to=DOS - timedelta(days=2))
    assert where(charges, backwards, context) == [("charges", "error", "claim.statement_from")]


def test_timely_filing_limit_and_warning_window(context: ScrubContext) -> None:
    late = claim(created=DOS + timedelta(days=366))
    [found] = issues(timely_filing, late, context)
    assert (found.severity, found.location) == ("error", "claim")
    assert found.message == (
        "The claim is 366 days after the last date of service; ACME HEALTH PLAN accepts "
        "claims for 365 days"
    )
    assert where(timely_filing, claim(created=DOS + timedelta(days=340)), context) == [
        ("timely-filing", "warning", "claim")
    ]
    assert issues(timely_filing, claim(created=DOS + timedelta(days=335)), context) == []
    short = replace(
        claim().claim.subscriber, payer=replace(claim().claim.subscriber.payer, payer_id="SHORT")
    )
    assert where(
        timely_filing, claim(created=DOS + timedelta(days=91), subscriber=short), context
    ) == [("timely-filing", "error", "claim")]


def test_duplicates_of_other_claims_and_of_lines(
    context: ScrubContext, index: MemoryDuplicates
) -> None:
    earlier = claim(line("G0463"), claim_id="EARLIER", patient_key="patient-dup")
    index.add(claim_signature(earlier), "EARLIER")
    assert issues(duplicates, earlier, context) == []  # itself is not a duplicate
    again = claim(line("G0463", charge=Decimal(99)), claim_id="AGAIN", patient_key="patient-dup")
    [found] = issues(duplicates, again, context)
    assert (found.severity, found.location) == ("error", "claim")
    assert "EARLIER" in found.message
    twice = claim(line("J1885"), line("J1885", charge=Decimal(3)), line("J1885", modifiers=("LT",)))
    assert where(duplicates, twice, context) == [("duplicates", "warning", "line[1]")]


def test_a_professional_line_needs_a_procedure_code(context: ScrubContext) -> None:
    assert where(required_fields, claim(line(""), line()), context) == [
        ("required-fields", "error", "line[0].procedure_code")
    ]
    assert where(required_fields, institutional(line("")), context) == []


def test_addresses_need_a_us_state_code_and_a_zip_of_the_right_length(
    context: ScrubContext,
) -> None:
    fictional = replace(PERSON, address=replace(ADDRESS, state="ZZ"))
    no_state = claim(subscriber=replace(claim().claim.subscriber, person=fictional))
    [state] = issues(required_fields, no_state, context)
    assert (state.location, state.message) == (
        "subscriber.person.address",
        "The subscriber state 'ZZ' is not a US state or territory code",
    )
    five_digits = replace(BILLING, address=replace(ADDRESS, postal_code="62701"))
    [zip_code] = issues(required_fields, claim(billing=five_digits), context)
    assert (zip_code.location, zip_code.message) == (
        "billing_provider.address",
        "The billing provider ZIP code '62701' is not 9 digits",
    )
    # a person's five-digit ZIP is fine
    five = replace(PERSON, address=replace(ADDRESS, postal_code="62701"))
    assert (
        issues(
            required_fields,
            claim(subscriber=replace(claim().claim.subscriber, person=five)),
            context,
        )
        == []
    )


# --- CPT, when a licensee has loaded a version -----------------------------------------------
# The CPT file is synthetic: 00000, 9990F, 9990T, 9991T, 9992T are CPT-shaped codes that are
# not CPT codes, with "Synthetic test descriptor" texts (CPT is licensed by the AMA).
CPT_FILE = DATA / "cpt_synthetic_2026.txt"


@pytest.fixture(scope="module")
def cpt_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScrubContext]:
    """The fixture tables plus the synthetic CPT file as version 2026, from 2026-01-01."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('scrub-cpt')}/codes.db")
    upgrade(engine)
    registry = CodeRegistry(engine)
    load(registry)
    found = open_code_file("cpt", CPT_FILE)
    registry.load("cpt", found.entries, "2026", (date(2026, 1, 1), None), found.source)
    yield ScrubContext(registry)
    engine.dispose()


def test_cpt_codes_are_checked_against_the_loaded_version(cpt_context: ScrubContext) -> None:
    known = claim(line("9990T"), line("9990F"), line("00000"), line("9991T", modifiers=("LT",)))
    assert issues(code_validity, known, cpt_context) == []
    scrub = claim(line("9990T"), line("9993T"), line("9994F", modifiers=("ZZ",)), line("G0008"))
    found = issues(code_validity, scrub, cpt_context)
    assert sorted((i.severity, i.location, i.code, i.message) for i in found) == [
        ("error", "line[1].procedure_code", "9993T", "9993T is not a CPT code in version 2026"),
        ("error", "line[2].modifiers", "ZZ", "ZZ is not an HCPCS modifier in version 2026-01"),
        ("error", "line[2].procedure_code", "9994F", "9994F is not a CPT code in version 2026"),
    ]


def test_cpt_modifiers_stay_unchecked_under_a_loaded_version(cpt_context: ScrubContext) -> None:
    scrub = claim(line("9990T"), line("G0008", modifiers=("59",)), line("9991T", modifiers=("25",)))
    [found] = issues(code_validity, scrub, cpt_context)
    assert (found.severity, found.location, found.message) == (
        "information",
        "line[1].modifiers",
        "CPT modifiers are not checked: the CPT file lists codes, not modifiers",
    )


def test_cpt_before_the_loaded_version_is_reported_as_not_checked(
    cpt_context: ScrubContext,
) -> None:
    december = date(2025, 12, 1)  # before CPT 2026 and the HCPCS fixture (2026-01)
    scrub = claim(line("9990T"), line("9993T", service_date=december))
    found = issues(code_validity, scrub, cpt_context)
    assert sorted((i.severity, i.location, i.message) for i in found) == [
        ("information", "line[1].procedure_code", code_validity.CPT_MESSAGE),
        ("warning", "claim", "No HCPCS version is loaded for 2025-12-01: codes were not checked"),
    ]


def test_without_a_cpt_version_cpt_shaped_codes_get_the_information_issue(
    context: ScrubContext,
) -> None:
    [found] = issues(code_validity, claim(line("G0008"), line("9993T")), context)
    assert (found.severity, found.location, found.code, found.message) == (
        "information",
        "line[1].procedure_code",
        "9993T",
        "CPT codes are not checked: CPT is licensed by the AMA and not loaded",
    )
