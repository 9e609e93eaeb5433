"""Medication table: RxNorm codes with the sig a prescriber writes and its structured form."""

from __future__ import annotations

from dataclasses import dataclass

# RxNorm codes and names below were checked against Synthea's medication cost table
# (synthetichealth/synthea, src/main/resources/costs/medications.csv), which is built from RxNorm.


@dataclass(frozen=True)
class MedDef:
    """One orderable medication and its usual sig."""

    key: str
    rxnorm: str
    display: str  # RxNorm name
    name: str  # how clinicians write it in notes
    sig: str  # free-text sig as written on the order
    dose: float | None
    dose_unit: str
    dose_ucum: str
    route: str  # key of ROUTES
    frequency: int = 1
    period: float = 1
    period_unit: str = "d"  # UCUM time unit used by Timing.repeat.periodUnit
    prn: str | None = None  # as-needed reason
    course_days: int | None = None  # a finite course; None means a maintenance medication


# SNOMED CT route qualifiers: (code, display, abbreviation used in sigs)
ROUTES: dict[str, tuple[str, str, str]] = {
    "PO": ("26643006", "Oral route (qualifier value)", "PO"),
    "IV": ("47625008", "Intravenous route (qualifier value)", "IV"),
    "SC": ("34206005", "Subcutaneous route (qualifier value)", "SC"),
    "IM": ("78421000", "Intramuscular route (qualifier value)", "IM"),
    "INH": ("447694001", "Respiratory tract route (qualifier value)", "INH"),
    "SL": ("37839007", "Sublingual route (qualifier value)", "SL"),
    "TOP": ("6064005", "Topical route (qualifier value)", "TOP"),
}

_M = MedDef

# fmt: off
MEDS_LIST: tuple[MedDef, ...] = (
    _M("lisinopril", "314076", "lisinopril 10 MG Oral Tablet", "lisinopril 10 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("amlodipine", "197361", "Amlodipine 5 MG Oral Tablet", "amlodipine 5 mg", "1 tab PO daily",
       1, "tablet", "{tbl}", "PO"),
    _M("hctz", "310798", "Hydrochlorothiazide 25 MG Oral Tablet", "HCTZ 25 mg", "1 tab PO qAM", 1,
       "tablet", "{tbl}", "PO"),
    _M("losartan", "979485", "Losartan Potassium 25 MG Oral Tablet", "losartan 25 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("metformin", "860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
       "metformin ER 500 mg", "1 tab PO daily w/ evening meal", 1, "tablet", "{tbl}", "PO"),
    _M("insulin_70_30", "106892",
       "insulin human isophane 70 UNT/ML / Regular Insulin Human 30 UNT/ML Injectable "
       "Suspension [Humulin]", "Humulin 70/30", "20 units SC BID before meals", 20, "unit", "[iU]",
       "SC", frequency=2),
    _M("insulin_lispro", "865098", "Insulin Lispro 100 UNT/ML Injectable Solution [Humalog]",
       "insulin lispro", "6 units SC TID w/ meals", 6, "unit", "[iU]", "SC", frequency=3),
    _M("simvastatin", "312961", "Simvastatin 20 MG Oral Tablet", "simvastatin 20 mg",
       "1 tab PO qHS", 1, "tablet", "{tbl}", "PO"),
    _M("atorvastatin", "259255", "Atorvastatin 80 MG Oral Tablet", "atorvastatin 80 mg",
       "1 tab PO qHS", 1, "tablet", "{tbl}", "PO"),
    _M("albuterol", "745679", "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
       "albuterol HFA", "2 puffs INH q4-6h prn SOB", 2, "puff", "{puff}", "INH", period=4,
       period_unit="h", prn="SOB/wheezing"),
    _M("fluticasone", "895994",
       "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
       "fluticasone 44 mcg HFA", "2 puffs INH BID", 2, "puff", "{puff}", "INH", frequency=2),
    _M("fluticasone_salmeterol", "896209",
       "60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder "
       "Inhaler", "fluticasone-salmeterol 250/50", "1 puff INH BID", 1, "puff", "{puff}", "INH",
       frequency=2),
    _M("furosemide", "313988", "Furosemide 40 MG Oral Tablet", "furosemide 40 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("metoprolol", "866414",
       "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]",
       "Toprol XL 100 mg", "1 tab PO daily, hold for HR<55", 1, "tablet", "{tbl}", "PO"),
    _M("warfarin", "855332", "Warfarin Sodium 5 MG Oral Tablet", "warfarin 5 mg",
       "1 tab PO qPM, adjust per INR", 1, "tablet", "{tbl}", "PO"),
    _M("digoxin", "197604", "Digoxin 0.125 MG Oral Tablet", "digoxin 0.125 mg", "1 tab PO daily",
       1, "tablet", "{tbl}", "PO"),
    _M("aspirin", "243670", "Aspirin 81 MG Oral Tablet", "ASA 81 mg", "1 tab PO daily", 1,
       "tablet", "{tbl}", "PO"),
    _M("clopidogrel", "309362", "Clopidogrel 75 MG Oral Tablet", "clopidogrel 75 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("nitroglycerin", "705129", "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", "NTG 0.4 mg spray",
       "1 spray SL q5min prn CP, max 3 doses", 1, "spray", "{spray}", "SL", period=5,
       period_unit="min", prn="CP"),
    _M("sertraline", "312938", "Sertraline 100 MG Oral Tablet", "sertraline 100 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("fluoxetine", "310385", "FLUoxetine 20 MG Oral Capsule", "fluoxetine 20 mg",
       "1 cap PO daily", 1, "capsule", "{cap}", "PO"),
    _M("clonazepam", "204892", "clonazePAM 0.25 MG Oral Tablet", "clonazepam 0.25 mg",
       "1 tab PO BID prn anxiety", 1, "tablet", "{tbl}", "PO", frequency=2, prn="anxiety"),
    _M("levothyroxine", "966222", "Levothyroxine Sodium 0.075 MG Oral Tablet",
       "levothyroxine 75 mcg", "1 tab PO qAM on empty stomach", 1, "tablet", "{tbl}", "PO"),
    _M("acetaminophen", "313782", "Acetaminophen 325 MG Oral Tablet", "APAP 325 mg",
       "2 tab PO q6h prn pain", 2, "tablet", "{tbl}", "PO", period=6, period_unit="h", prn="pain"),
    _M("naproxen", "198014", "Naproxen 500 MG Oral Tablet", "naproxen 500 mg",
       "1 tab PO BID prn pain, take w/ food", 1, "tablet", "{tbl}", "PO", frequency=2, prn="pain"),
    _M("ibuprofen", "310965", "Ibuprofen 200 MG Oral Tablet", "ibuprofen 200 mg",
       "2 tab PO q6h prn pain", 2, "tablet", "{tbl}", "PO", period=6, period_unit="h", prn="pain"),
    _M("alendronate", "904419", "Alendronic acid 10 MG Oral Tablet", "alendronate 10 mg",
       "1 tab PO daily, remain upright 30 min", 1, "tablet", "{tbl}", "PO"),
    _M("allopurinol", "197319", "Allopurinol 100 MG Oral Tablet", "allopurinol 100 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("colchicine", "197541", "Colchicine 0.6 MG Oral Tablet", "colchicine 0.6 mg",
       "1 tab PO daily prn gout flare", 1, "tablet", "{tbl}", "PO", prn="gout flare"),
    _M("ferrous_sulfate", "310325", "ferrous sulfate 325 MG Oral Tablet", "FeSO4 325 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("donepezil", "997223", "Donepezil hydrochloride 10 MG Oral Tablet", "donepezil 10 mg",
       "1 tab PO qHS", 1, "tablet", "{tbl}", "PO"),
    _M("cetirizine", "1014678", "cetirizine hydrochloride 10 MG Oral Tablet", "cetirizine 10 mg",
       "1 tab PO daily", 1, "tablet", "{tbl}", "PO"),
    _M("loratadine", "311372", "Loratadine 10 MG Oral Tablet", "loratadine 10 mg",
       "1 tab PO daily prn allergy sx", 1, "tablet", "{tbl}", "PO", prn="allergy symptoms"),
    _M("hydrocortisone_cream", "106258", "Hydrocortisone 10 MG/ML Topical Cream",
       "hydrocortisone 1% cream", "apply thin layer TOP BID to affected areas", None, "", "",
       "TOP", frequency=2),
    _M("methylphenidate", "1091392", "Methylphenidate Hydrochloride 20 MG Oral Tablet",
       "methylphenidate 20 mg", "1 tab PO qAM", 1, "tablet", "{tbl}", "PO"),
    _M("epinephrine_autoinjector", "1870230", "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector",
       "EpiPen", "0.3 mg IM x1 prn anaphylaxis, may repeat in 5-15 min", 0.3, "mg", "mg", "IM",
       period=5, period_unit="min", prn="anaphylaxis"),
    _M("amoxicillin", "308192", "Amoxicillin 500 MG Oral Tablet", "amoxicillin 500 mg",
       "1 tab PO TID x10d", 1, "tablet", "{tbl}", "PO", frequency=3, course_days=10),
    _M("amox_clav", "562251", "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet",
       "amox-clav 250/125", "1 tab PO TID x7d", 1, "tablet", "{tbl}", "PO", frequency=3,
       course_days=7),
    _M("azithromycin", "308460", "Azithromycin 250 MG Oral Tablet", "azithromycin 250 mg",
       "2 tabs PO day 1, then 1 tab PO daily x4d", 1, "tablet", "{tbl}", "PO", course_days=5),
    _M("doxycycline", "1650142", "Doxycycline Monohydrate 100 MG Oral Tablet",
       "doxycycline 100 mg", "1 tab PO BID x7d", 1, "tablet", "{tbl}", "PO", frequency=2,
       course_days=7),
    _M("nitrofurantoin", "311995", "NITROFURANTOIN MACROCRYSTALS 50 MG Oral Capsule",
       "nitrofurantoin 50 mg", "1 cap PO QID x5d", 1, "capsule", "{cap}", "PO", frequency=4,
       course_days=5),
    _M("cefuroxime", "309097", "Cefuroxime 250 MG Oral Tablet", "cefuroxime 250 mg",
       "1 tab PO BID x10d", 1, "tablet", "{tbl}", "PO", frequency=2, course_days=10),
    _M("ceftriaxone", "1665021", "ceftriaxone 1000 MG Injection", "ceftriaxone", "1 g IV q24h", 1,
       "g", "g", "IV", period=24, period_unit="h", course_days=5),
    _M("vancomycin", "1807513", "vancomycin 1000 MG Injection", "vancomycin", "1 g IV q12h", 1,
       "g", "g", "IV", period=12, period_unit="h", course_days=7),
    _M("pip_tazo", "1659149", "piperacillin 4000 MG / tazobactam 500 MG Injection", "pip-tazo",
       "4.5 g IV q6h", 4.5, "g", "g", "IV", period=6, period_unit="h", course_days=7),
    _M("heparin", "1659263", "1 ML heparin sodium, porcine 5000 UNT/ML Injection", "heparin",
       "5000 units SC q8h for DVT ppx", 5000, "unit", "[iU]", "SC", period=8, period_unit="h",
       course_days=5),
    _M("enoxaparin", "854235", "0.4 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe",
       "enoxaparin", "40 mg SC daily", 40, "mg", "mg", "SC", course_days=5),
    _M("ondansetron", "1740467", "2 ML Ondansetron 2 MG/ML Injection", "ondansetron",
       "4 mg IV q6h prn N/V", 4, "mg", "mg", "IV", period=6, period_unit="h",
       prn="nausea/vomiting", course_days=3),
    _M("morphine", "1732136", "1 ML Morphine Sulfate 5 MG/ML Injection", "morphine",
       "2 mg IV q4h prn severe pain", 2, "mg", "mg", "IV", period=4, period_unit="h",
       prn="severe pain", course_days=3),
    _M("oxycodone_apap", "1049221",
       "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet", "oxycodone-APAP 5/325",
       "1 tab PO q6h prn pain", 1, "tablet", "{tbl}", "PO", period=6, period_unit="h", prn="pain",
       course_days=5),
    _M("prednisone", "312615", "predniSONE 20 MG Oral Tablet", "prednisone 20 mg",
       "2 tabs PO daily x5d", 2, "tablet", "{tbl}", "PO", course_days=5),
    _M("albuterol_neb", "245314", "Albuterol 5 MG/ML Inhalation Solution", "albuterol",
       "2.5 mg NEB q4h prn wheezing", 2.5, "mg", "mg", "INH", period=4, period_unit="h",
       prn="wheezing", course_days=5),
    _M("furosemide_iv", "1719286", "10 ML Furosemide 10 MG/ML Injection", "furosemide",
       "40 mg IV BID", 40, "mg", "mg", "IV", frequency=2, course_days=3),
)
# fmt: on

MEDS: dict[str, MedDef] = {m.key: m for m in MEDS_LIST}
