"""LOINC tables for vital signs, lab tests and panels, with reference ranges and disease effects."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabDef:
    """One lab test: LOINC code, UCUM unit, adult reference range, and how diseases shift it."""

    key: str
    loinc: str
    display: str
    short: str  # as written in notes
    unit: str
    ucum: str
    low: float
    high: float
    mean: float
    sd: float
    decimals: int = 0
    # condition key -> (mean, sd); the first matching key (scenario reason first) wins
    effects: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelDef:
    """A group of labs ordered together; ``loinc`` is None for a single test without a report."""

    key: str
    loinc: str | None
    display: str
    labs: tuple[str, ...]


@dataclass(frozen=True)
class VitalDef:
    """One vital sign."""

    key: str
    loinc: str
    display: str
    unit: str
    ucum: str
    decimals: int = 0


_L = LabDef

# fmt: off
LABS_LIST: tuple[LabDef, ...] = (
    _L("glucose", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "Glu", "mg/dL", "mg/dL",
       70, 99, 90, 8, effects={"dm1": (185, 60), "dm2": (160, 40), "sepsis": (150, 30)}),
    _L("bun", "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "BUN", "mg/dL", "mg/dL",
       7, 20, 14, 4,
       effects={"aki": (48, 12), "ckd": (38, 10), "dehydration": (30, 6), "chf": (26, 7)}),
    _L("creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Cr", "mg/dL",
       "mg/dL", 0.6, 1.3, 0.9, 0.15, decimals=2,
       effects={"aki": (2.8, 0.7), "ckd": (2.1, 0.5), "dehydration": (1.4, 0.2),
                "sepsis": (1.6, 0.4)}),
    _L("sodium", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Na", "mmol/L", "mmol/L",
       136, 145, 139, 2, effects={"dehydration": (148, 3), "chf": (133, 3)}),
    _L("potassium", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "K", "mmol/L",
       "mmol/L", 3.5, 5.1, 4.2, 0.3, decimals=1,
       effects={"aki": (5.6, 0.5), "gastroenteritis": (3.2, 0.3), "ckd": (5.1, 0.4)}),
    _L("chloride", "2075-0", "Chloride [Moles/volume] in Serum or Plasma", "Cl", "mmol/L",
       "mmol/L", 98, 107, 103, 2),
    _L("co2", "2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "CO2", "mmol/L",
       "mmol/L", 22, 29, 25, 2, effects={"sepsis": (18, 2), "copd": (31, 2)}),
    _L("calcium", "17861-6", "Calcium [Mass/volume] in Serum or Plasma", "Ca", "mg/dL", "mg/dL",
       8.6, 10.3, 9.4, 0.3, decimals=1),
    _L("wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "WBC", "10*3/uL",
       "10*3/uL", 4.5, 11.0, 7.2, 1.5, decimals=1,
       effects={"sepsis": (18, 4), "pneumonia": (14.5, 3), "appendicitis": (14, 3),
                "cellulitis": (12.5, 2), "copd_exac": (11.5, 2)}),
    _L("hgb", "718-7", "Hemoglobin [Mass/volume] in Blood", "Hgb", "g/dL", "g/dL", 12.0, 17.5,
       14.2, 1.0, decimals=1, effects={"anemia": (9.4, 1.0), "ckd": (10.6, 1.0)}),
    _L("hct", "4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "Hct", "%",
       "%", 36, 52, 42, 3, decimals=1, effects={"anemia": (29, 3), "ckd": (32, 3)}),
    _L("plt", "777-3", "Platelets [#/volume] in Blood by Automated count", "Plt", "10*3/uL",
       "10*3/uL", 150, 400, 250, 50, effects={"sepsis": (120, 40)}),
    _L("chol", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "TC", "mg/dL", "mg/dL",
       100, 199, 180, 25, effects={"hld": (238, 30)}),
    _L("ldl", "18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
       "LDL", "mg/dL", "mg/dL", 0, 99, 100, 22, effects={"hld": (158, 28)}),
    _L("hdl", "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "HDL", "mg/dL",
       "mg/dL", 40, 100, 52, 11, effects={"dm2": (39, 7)}),
    _L("trig", "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "TG", "mg/dL", "mg/dL",
       0, 149, 115, 35, effects={"hld": (205, 55), "dm2": (190, 50)}),
    _L("a1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "A1c", "%", "%", 4.0, 5.6, 5.2,
       0.3, decimals=1, effects={"dm1": (8.3, 1.3), "dm2": (7.9, 1.2)}),
    _L("tsh", "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", "mIU/L", "m[IU]/L",
       0.45, 4.5, 1.8, 0.7, decimals=2, effects={"hypothyroid": (6.8, 2.5)}),
    _L("bnp", "33762-6",
       "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "NT-proBNP",
       "pg/mL", "pg/mL", 0, 125, 60, 30, effects={"chf": (2900, 1200)}),
    _L("troponin", "10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "trop",
       "ng/mL", "ng/mL", 0, 0.04, 0.01, 0.005, decimals=2, effects={"ami": (2.4, 1.4)}),
    _L("lactate", "2524-7", "Lactate [Moles/volume] in Serum or Plasma", "lactate", "mmol/L",
       "mmol/L", 0.5, 2.2, 1.2, 0.3, decimals=1, effects={"sepsis": (3.9, 1.0)}),
    _L("inr", "6301-6", "INR in Platelet poor plasma by Coagulation assay", "INR", "INR", "{INR}",
       0.8, 1.1, 1.0, 0.08, decimals=1, effects={"afib": (2.5, 0.5)}),
)
# fmt: on

LABS: dict[str, LabDef] = {lab.key: lab for lab in LABS_LIST}

PANELS: dict[str, PanelDef] = {
    p.key: p
    for p in (
        PanelDef(
            "bmp",
            "51990-0",
            "Basic metabolic panel - Blood",
            ("glucose", "bun", "creatinine", "sodium", "potassium", "chloride", "co2", "calcium"),
        ),
        PanelDef(
            "cbc", "58410-2", "CBC panel - Blood by Automated count", ("wbc", "hgb", "hct", "plt")
        ),
        PanelDef(
            "lipid",
            "57698-3",
            "Lipid panel with direct LDL - Serum or Plasma",
            ("chol", "ldl", "hdl", "trig"),
        ),
        PanelDef("a1c", None, "Hemoglobin A1c", ("a1c",)),
        PanelDef("tsh", None, "TSH", ("tsh",)),
        PanelDef("bnp", None, "NT-proBNP", ("bnp",)),
        PanelDef("trop", None, "Troponin I", ("troponin",)),
        PanelDef("lactate", None, "Lactate", ("lactate",)),
        PanelDef("inr", None, "INR", ("inr",)),
    )
}

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")

VITALS: dict[str, VitalDef] = {
    v.key: v
    for v in (
        VitalDef("hr", "8867-4", "Heart rate", "beats/minute", "/min"),
        VitalDef("temp", "8310-5", "Body temperature", "C", "Cel", 1),
        VitalDef("rr", "9279-1", "Respiratory rate", "breaths/minute", "/min"),
        VitalDef("spo2", "2708-6", "Oxygen saturation in Arterial blood", "%", "%"),
        VitalDef("weight", "29463-7", "Body weight", "kg", "kg", 1),
        VitalDef("height", "8302-2", "Body height", "cm", "cm", 1),
        VitalDef("bmi", "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2", 1),
    )
}

# Code status. LOINC 100822-6 "Cardiopulmonary resuscitation orders" with the POLST CPR answer
# list LL6263-9 is how C-CDA's advance directive observation and the PACIO ADI guide carry a CPR
# order, so a resuscitation preference is recorded as an Observation with that code, its LOINC
# answer, and the SNOMED CT finding as a second coding.
CODE_STATUS = ("100822-6", "Cardiopulmonary resuscitation orders")
FULL_CODE = (("LA33470-8", "Yes CPR"), ("304252001", "For resuscitation (finding)"), "Full code")
DNR = (
    ("LA33471-6", "No CPR: Do Not Attempt Resuscitation"),
    ("304253006", "Not for resuscitation (finding)"),
    "DNR",
)
