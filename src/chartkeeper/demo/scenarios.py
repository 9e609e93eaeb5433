"""Visit scenarios: why a patient comes in, where, and what gets ordered and done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Scenario:
    """One kind of visit. Class codes are v3-ActCode AMB, EMER or IMP."""

    key: str
    klass: str
    enc_type: str  # key of catalog_misc.ENCOUNTER_TYPES
    department: str
    location: str
    reason: str | None = None  # condition key diagnosed/treated at this visit
    requires: tuple[str, ...] = ()  # patient must have one of these chronic conditions
    ages: tuple[int, int] = (0, 120)
    labs: tuple[str, ...] = ()  # panel keys
    meds: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    los: tuple[int, int] = (0, 0)  # length of stay in days, inpatient only
    admit_source: str = "emd"
    adds: tuple[str, ...] = ()  # chronic conditions that start at this visit
    weight: float = 1.0
    since: date | None = None  # scenario exists only from this date on


_S = Scenario
_COVID_ERA = date(2020, 3, 1)

# fmt: off
AMBULATORY: tuple[Scenario, ...] = (
    _S("wellness", "AMB", "checkup", "internal_medicine", "im_clinic", ages=(18, 120),
       labs=("lipid",), weight=3),
    _S("well_child", "AMB", "checkup", "pediatrics", "peds_clinic", ages=(0, 17), weight=4),
    _S("chronic_followup", "AMB", "followup", "internal_medicine", "im_clinic",
       requires=("htn", "dm2", "hld", "copd", "ckd", "hypothyroid", "asthma", "gerd", "obesity",
                 "anemia", "gout", "osteoporosis", "dementia", "dm1", "osa", "bph", "migraine",
                 "allergic_rhinitis"), ages=(18, 120), weight=6),
    _S("peds_followup", "AMB", "followup", "pediatrics", "peds_clinic",
       requires=("asthma", "adhd", "eczema", "dm1", "allergic_rhinitis"), ages=(2, 17), weight=3),
    _S("cardiology_clinic", "AMB", "followup", "cardiology", "cardio_clinic",
       requires=("chf", "afib", "cad"), ages=(40, 120), procedures=("ecg",), weight=3),
    _S("bh_visit", "AMB", "followup", "behavioral_health", "bh_clinic",
       requires=("depression", "anxiety", "ptsd", "bipolar", "adhd"), ages=(12, 120),
       procedures=("cbt",), weight=3),
    _S("pt_visit", "AMB", "followup", "rehabilitation", "rehab_clinic",
       requires=("oa_knee", "lbp"), ages=(18, 120), procedures=("physical_therapy",), weight=2),
    _S("sick_sinusitis", "AMB", "symptom", "internal_medicine", "im_clinic", reason="sinusitis",
       ages=(12, 120), meds=("amox_clav",)),
    _S("sick_bronchitis", "AMB", "symptom", "internal_medicine", "im_clinic", reason="bronchitis",
       ages=(18, 120), meds=("albuterol",)),
    _S("sick_strep", "AMB", "symptom", "pediatrics", "peds_clinic", reason="strep", ages=(3, 17),
       meds=("amoxicillin",), procedures=("throat_culture",)),
    _S("sick_otitis", "AMB", "symptom", "pediatrics", "peds_clinic", reason="otitis", ages=(0, 8),
       meds=("amoxicillin",)),
    _S("sick_uti", "AMB", "symptom", "internal_medicine", "im_clinic", reason="uti",
       ages=(16, 120), meds=("nitrofurantoin",)),
    _S("sick_back", "AMB", "symptom", "internal_medicine", "im_clinic", reason="lbp",
       ages=(18, 90), meds=("naproxen",)),
    _S("sick_flu", "AMB", "symptom", "internal_medicine", "im_clinic", reason="influenza",
       ages=(18, 120)),
)
# fmt: on

# fmt: off
# fmt: off
EMERGENCY: tuple[Scenario, ...] = (
    _S("ed_chest_pain", "EMER", "emergency", "emergency", "ed", reason="chest_pain",
       ages=(30, 120), labs=("bmp", "cbc", "trop"), meds=("aspirin",), procedures=("ecg", "cxr"),
       weight=3),
    _S("ed_ankle", "EMER", "emergency", "emergency", "ed", reason="ankle_sprain", ages=(8, 75),
       meds=("ibuprofen",), procedures=("splint",), weight=2),
    _S("ed_uti", "EMER", "emergency", "emergency", "ed", reason="uti", ages=(16, 120),
       meds=("nitrofurantoin",)),
    _S("ed_gastro", "EMER", "emergency", "emergency", "ed", reason="gastroenteritis",
       labs=("bmp",), meds=("ondansetron",), weight=2),
    _S("ed_asthma", "EMER", "emergency", "emergency", "ed", reason="asthma_exac",
       requires=("asthma",), meds=("albuterol_neb", "prednisone"), weight=3),
    _S("ed_concussion", "EMER", "emergency", "emergency", "ed", reason="concussion", ages=(5, 90),
       procedures=("ct_head",)),
    _S("ed_syncope", "EMER", "emergency", "emergency", "ed", reason="syncope", ages=(40, 120),
       labs=("bmp", "cbc", "trop"), procedures=("ecg",)),
    _S("ed_flu", "EMER", "emergency", "emergency", "ed", reason="influenza"),
    _S("ed_covid", "EMER", "emergency", "emergency", "ed", reason="covid", procedures=("cxr",),
       since=_COVID_ERA),
    _S("ed_cellulitis", "EMER", "emergency", "emergency", "ed", reason="cellulitis",
       ages=(10, 120), labs=("cbc",), meds=("doxycycline",)),
    _S("ed_otitis", "EMER", "emergency", "emergency", "ed", reason="otitis", ages=(0, 6),
       meds=("amoxicillin",)),
    _S("ed_si", "EMER", "emergency", "emergency", "ed", reason="suicidal",
       requires=("depression", "bipolar", "ptsd"), ages=(14, 90), labs=("bmp",)),
)
# fmt: on
# fmt: on

# fmt: off
# fmt: off
INPATIENT: tuple[Scenario, ...] = (
    _S("imp_pneumonia", "IMP", "emergency_admission", "internal_medicine", "med_ward",
       reason="pneumonia", ages=(18, 120), labs=("bmp", "cbc", "lactate"),
       meds=("ceftriaxone", "azithromycin", "enoxaparin"), procedures=("cxr",), los=(2, 5),
       weight=3),
    _S("imp_chf", "IMP", "emergency_admission", "cardiology", "cardiac_unit", reason="chf",
       requires=("chf",), labs=("bmp", "bnp", "trop"), meds=("furosemide_iv", "enoxaparin"),
       procedures=("cxr", "echo"), los=(3, 6), weight=4),
    _S("imp_copd", "IMP", "emergency_admission", "internal_medicine", "med_ward",
       reason="copd_exac", requires=("copd",), labs=("bmp", "cbc"),
       meds=("albuterol_neb", "prednisone", "azithromycin", "enoxaparin"), procedures=("cxr",),
       los=(2, 5), weight=4),
    _S("imp_mi", "IMP", "emergency_admission", "cardiology", "cardiac_unit", reason="ami",
       ages=(40, 120), labs=("trop", "bmp", "cbc", "lipid"),
       meds=("aspirin", "clopidogrel", "atorvastatin", "heparin"),
       procedures=("ecg", "cath", "pci"), los=(2, 5), adds=("cad",), weight=2),
    _S("imp_stroke", "IMP", "emergency_admission", "internal_medicine", "med_ward",
       reason="stroke", ages=(50, 120), labs=("bmp", "cbc", "lipid", "a1c"),
       meds=("aspirin", "atorvastatin", "enoxaparin"), procedures=("ct_head", "physical_therapy"),
       los=(3, 7), weight=2),
    _S("imp_sepsis", "IMP", "emergency_admission", "internal_medicine", "icu", reason="sepsis",
       ages=(18, 120), labs=("bmp", "cbc", "lactate"), meds=("vancomycin", "pip_tazo", "heparin"),
       los=(4, 9), weight=2),
    _S("imp_cellulitis", "IMP", "emergency_admission", "internal_medicine", "med_ward",
       reason="cellulitis", ages=(18, 120), labs=("cbc", "bmp"), meds=("vancomycin", "enoxaparin"),
       los=(2, 4)),
    _S("imp_appendicitis", "IMP", "surgical_admission", "surgery", "surg_ward",
       reason="appendicitis", ages=(5, 70), labs=("cbc", "bmp"),
       meds=("ceftriaxone", "oxycodone_apap", "ondansetron"), procedures=("appendectomy",),
       los=(1, 3), weight=2),
    _S("imp_chole", "IMP", "surgical_admission", "surgery", "surg_ward", reason="cholelithiasis",
       ages=(25, 90), labs=("cbc", "bmp"), meds=("oxycodone_apap", "ondansetron"),
       procedures=("lap_chole",), los=(1, 2)),
    _S("imp_hip_fx", "IMP", "surgical_admission", "surgery", "surg_ward", reason="hip_fracture",
       ages=(65, 120), labs=("cbc", "bmp"), meds=("morphine", "enoxaparin", "oxycodone_apap"),
       procedures=("tha", "physical_therapy"), los=(3, 6), weight=2),
    _S("imp_tka", "IMP", "surgical_admission", "surgery", "surg_ward", reason="oa_knee",
       requires=("oa_knee",), labs=("cbc", "bmp"), meds=("enoxaparin", "oxycodone_apap"),
       procedures=("tka", "physical_therapy"), los=(1, 3), admit_source="outp", weight=2),
    _S("imp_aki", "IMP", "emergency_admission", "internal_medicine", "med_ward", reason="aki",
       ages=(50, 120), labs=("bmp",), meds=("heparin",), los=(2, 4)),
    _S("imp_pe", "IMP", "emergency_admission", "internal_medicine", "med_ward", reason="pe",
       ages=(25, 120), labs=("cbc", "bmp", "trop"), meds=("enoxaparin",), procedures=("cxr",),
       los=(2, 4)),
    _S("imp_bh", "IMP", "admission", "behavioral_health", "bh_unit", reason="suicidal",
       requires=("depression", "bipolar", "ptsd"), ages=(14, 90), labs=("bmp",),
       meds=("sertraline",), procedures=("cbt",), los=(3, 8), admit_source="psych", weight=2),
    _S("imp_bronchiolitis", "IMP", "emergency_admission", "pediatrics", "peds_ward",
       reason="bronchiolitis", ages=(0, 1), los=(1, 3), weight=3),
    _S("imp_peds_asthma", "IMP", "emergency_admission", "pediatrics", "peds_ward",
       reason="asthma_exac", requires=("asthma",), ages=(2, 17),
       meds=("albuterol_neb", "prednisone"), los=(1, 3), weight=3),
    _S("imp_covid", "IMP", "emergency_admission", "internal_medicine", "med_ward", reason="covid",
       ages=(18, 120), labs=("bmp", "cbc"), meds=("enoxaparin",), procedures=("cxr",), los=(3, 7),
       since=_COVID_ERA),
)
# fmt: on
# fmt: on

SCENARIOS: dict[str, Scenario] = {s.key: s for s in AMBULATORY + EMERGENCY + INPATIENT}
BY_CLASS: dict[str, tuple[Scenario, ...]] = {
    "AMB": AMBULATORY,
    "EMER": EMERGENCY,
    "IMP": INPATIENT,
}


def eligible(s: Scenario, age: int, problems: set[str], when: date) -> bool:
    """Whether a patient of ``age`` with chronic ``problems`` could have this visit on ``when``."""
    if not s.ages[0] <= age <= s.ages[1]:
        return False
    if s.since and when < s.since:
        return False
    return not s.requires or bool(problems.intersection(s.requires))
