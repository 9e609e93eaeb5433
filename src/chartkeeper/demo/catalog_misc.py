"""Code tables: allergies, vaccines (CVX), procedures (SNOMED CT), note and encounter types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AllergyDef:
    """An allergen (SNOMED CT substance) and the reactions it tends to cause."""

    key: str
    snomed: str
    display: str
    short: str  # as written in notes
    category: str  # AllergyIntolerance.category
    reactions: tuple[str, ...]  # keys of REACTIONS
    weight: float


ALLERGIES: tuple[AllergyDef, ...] = (
    AllergyDef(
        "penicillin",
        "764146007",
        "Penicillin (substance)",
        "PCN",
        "medication",
        ("hives", "rash", "anaphylaxis"),
        10,
    ),
    AllergyDef(
        "sulfa", "387406002", "Sulfonamide (substance)", "sulfa", "medication", ("rash", "hives"), 6
    ),
    AllergyDef(
        "codeine",
        "387494007",
        "Codeine (substance)",
        "codeine",
        "medication",
        ("nausea", "vomiting"),
        4,
    ),
    AllergyDef(
        "aspirin", "387458008", "Aspirin (substance)", "ASA", "medication", ("hives", "dyspnea"), 2
    ),
    AllergyDef(
        "morphine",
        "373529000",
        "Morphine (substance)",
        "morphine",
        "medication",
        ("itching", "nausea"),
        2,
    ),
    AllergyDef(
        "peanut",
        "762952008",
        "Peanut (substance)",
        "peanuts",
        "food",
        ("anaphylaxis", "hives", "angioedema"),
        3,
    ),
    AllergyDef("egg", "102263004", "Eggs (edible) (substance)", "eggs", "food", ("hives",), 1),
    AllergyDef(
        "latex", "111088007", "Latex (substance)", "latex", "environment", ("itching", "rash"), 3
    ),
    AllergyDef(
        "bee_venom",
        "288328004",
        "Bee venom (substance)",
        "bee stings",
        "environment",
        ("anaphylaxis", "hives"),
        2,
    ),
)

# reaction key -> (SNOMED code, display, word used in notes, usual severity)
REACTIONS: dict[str, tuple[str, str, str, str]] = {
    "hives": ("247472004", "Wheal (finding)", "hives", "mild"),
    "rash": ("271807003", "Eruption of skin (disorder)", "rash", "mild"),
    "anaphylaxis": ("39579001", "Anaphylaxis (disorder)", "anaphylaxis", "severe"),
    "dyspnea": ("267036007", "Dyspnea (finding)", "SOB", "moderate"),
    "nausea": ("422587007", "Nausea (finding)", "nausea", "mild"),
    "vomiting": ("422400008", "Vomiting (disorder)", "vomiting", "moderate"),
    "itching": ("418290006", "Itching (finding)", "itching", "mild"),
    "angioedema": ("41291007", "Angioedema (disorder)", "lip swelling", "severe"),
}

NO_KNOWN_DRUG_ALLERGY = ("409137002", "No known drug allergy (situation)")
NO_KNOWN_ALLERGY = ("716186003", "No known allergy (situation)")

# CVX code -> display (CDC vaccine administered code set)
VACCINES: dict[str, tuple[str, str]] = {
    "flu": ("150", "Influenza, injectable, quadrivalent, preservative free"),
    "flu_trivalent": ("140", "Influenza, seasonal, injectable, preservative free"),
    "tdap": ("115", "Tdap"),
    "covid": (
        "208",
        "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative "
        "free, 30 mcg/0.3mL dose",
    ),
    "ppsv23": ("33", "pneumococcal polysaccharide vaccine, 23 valent"),
    "pcv13": ("133", "Pneumococcal conjugate vaccine, 13 valent"),
    "zoster": ("187", "zoster vaccine recombinant"),
    "dtap": ("20", "DTaP"),
    "ipv": ("10", "IPV"),
    "mmr": ("03", "MMR"),
    "varicella": ("21", "varicella"),
    "hepb": ("08", "Hep B, adolescent or pediatric"),
    "hib": ("49", "Hib (PRP-OMP)"),
    "hpv": ("62", "HPV, quadrivalent"),
    "hepa": ("83", "Hep A, ped/adol, 2 dose"),
    "mening": ("114", "meningococcal MCV4P"),
}

# childhood series given at well-child visits: (vaccine key, youngest age in months)
CHILD_SCHEDULE: tuple[tuple[str, int], ...] = (
    ("hepb", 0),
    ("dtap", 2),
    ("ipv", 2),
    ("hib", 2),
    ("pcv13", 2),
    ("mmr", 12),
    ("varicella", 12),
    ("hepa", 12),
    ("tdap", 132),
    ("hpv", 132),
    ("mening", 132),
)

# key -> (SNOMED code, display, words used in notes)
PROCEDURES: dict[str, tuple[str, str, str]] = {
    "ecg": ("29303009", "Electrocardiographic procedure (procedure)", "EKG"),
    "echo": ("40701008", "Echocardiography (procedure)", "TTE"),
    "cxr": ("399208008", "Plain X-ray of chest (procedure)", "CXR"),
    "ct_head": ("303653007", "Computed tomography of head (procedure)", "CT head"),
    "cath": ("41976001", "Cardiac catheterization (procedure)", "LHC"),
    "pci": ("36969009", "Placement of stent in coronary artery (procedure)", "PCI w/ DES"),
    "appendectomy": ("80146002", "Excision of appendix (procedure)", "lap appy"),
    "lap_chole": ("45595009", "Laparoscopic cholecystectomy (procedure)", "lap chole"),
    "tka": ("609588000", "Total knee replacement (procedure)", "TKA"),
    "tha": ("52734007", "Total replacement of hip (procedure)", "R hip arthroplasty"),
    "colonoscopy": ("73761001", "Colonoscopy (procedure)", "colonoscopy"),
    "physical_therapy": ("91251008", "Physical therapy procedure (regime/therapy)", "PT"),
    "cbt": ("228557008", "Cognitive and behavioral therapy (regime/therapy)", "CBT"),
    "med_rec": ("430193006", "Medication reconciliation (procedure)", "med rec"),
    "intubation": ("112798008", "Insertion of endotracheal tube (procedure)", "intubation"),
    "mammogram": ("71651007", "Mammography (procedure)", "screening mammo"),
    "splint": ("274474001", "Bone immobilization (procedure)", "splint"),
    "throat_culture": ("117015009", "Throat culture (procedure)", "rapid strep/throat cx"),
}

# DocumentReference.type (LOINC): key -> (code, display)
NOTE_TYPES: dict[str, tuple[str, str]] = {
    "progress": ("11506-3", "Progress note"),
    "hp": ("34117-2", "History and physical note"),
    "discharge": ("18842-5", "Discharge summary"),
    "ed": ("34111-5", "Emergency department note"),
}

# Encounter.type (SNOMED CT): key -> (code, display)
ENCOUNTER_TYPES: dict[str, tuple[str, str]] = {
    "checkup": ("185349003", "Encounter for check up (procedure)"),
    "followup": ("390906007", "Follow-up encounter (procedure)"),
    "symptom": ("185345009", "Encounter for symptom (procedure)"),
    "emergency": ("50849002", "Emergency room admission (procedure)"),
    "admission": ("32485007", "Hospital admission (procedure)"),
    "emergency_admission": ("183452005", "Emergency hospital admission (procedure)"),
    "surgical_admission": ("305408004", "Admission to surgical department (procedure)"),
}
