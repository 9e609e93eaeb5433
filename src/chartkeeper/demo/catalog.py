"""Condition code table: paired ICD-10-CM and SNOMED CT codes, prevalence, drugs and labs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConditionDef:
    """One diagnosis as the demo hospital codes and treats it."""

    key: str
    icd10: str
    icd10_display: str
    snomed: str
    snomed_display: str
    abbrev: str  # how clinicians write it in notes
    chronic: bool = False
    min_age: int = 0
    max_age: int = 120
    prevalence: float = 0.0  # chance that an eligible person has it (chronic conditions only)
    age_related: bool = False  # prevalence rises with age
    sexes: str = "mf"
    meds: tuple[str, ...] = ()  # medication keys (catalog_meds), first ones preferred
    labs: tuple[str, ...] = ()  # lab panel keys (catalog_obs) checked at follow-up


_C = ConditionDef

# fmt: off
CHRONIC: tuple[ConditionDef, ...] = (
    _C("htn", "I10", "Essential (primary) hypertension", "38341003",
       "Hypertensive disorder, systemic arterial (disorder)", "HTN", chronic=True, min_age=18,
       prevalence=0.3, age_related=True, meds=("lisinopril", "amlodipine", "hctz", "losartan"),
       labs=("bmp",)),
    _C("dm2", "E11.9", "Type 2 diabetes mellitus without complications", "44054006",
       "Diabetes mellitus type 2 (disorder)", "DM2", chronic=True, min_age=25, prevalence=0.12,
       age_related=True, meds=("metformin", "insulin_70_30"), labs=("a1c", "bmp")),
    _C("hld", "E78.5", "Hyperlipidemia, unspecified", "55822004", "Hyperlipidemia (disorder)",
       "HLD", chronic=True, min_age=25, prevalence=0.25, age_related=True,
       meds=("simvastatin", "atorvastatin"), labs=("lipid",)),
    _C("asthma", "J45.909", "Unspecified asthma, uncomplicated", "195967001", "Asthma (disorder)",
       "asthma", chronic=True, min_age=2, prevalence=0.08, meds=("albuterol", "fluticasone")),
    _C("copd", "J44.9", "Chronic obstructive pulmonary disease, unspecified", "13645005",
       "Chronic obstructive lung disease (disorder)", "COPD", chronic=True, min_age=40,
       prevalence=0.06, age_related=True, meds=("albuterol", "fluticasone_salmeterol")),
    _C("chf", "I50.9", "Heart failure, unspecified", "42343007",
       "Congestive heart failure (disorder)", "CHF", chronic=True, min_age=50, prevalence=0.05,
       age_related=True, meds=("furosemide", "metoprolol", "lisinopril"), labs=("bmp", "bnp")),
    _C("afib", "I48.91", "Unspecified atrial fibrillation", "49436004",
       "Atrial fibrillation (disorder)", "AFib", chronic=True, min_age=50, prevalence=0.05,
       age_related=True, meds=("warfarin", "digoxin")),
    _C("cad", "I25.10",
       "Atherosclerotic heart disease of native coronary artery without angina pectoris",
       "53741008", "Coronary arteriosclerosis (disorder)", "CAD", chronic=True, min_age=45,
       prevalence=0.06, age_related=True,
       meds=("aspirin", "atorvastatin", "nitroglycerin", "clopidogrel"), labs=("lipid",)),
    _C("ckd", "N18.9", "Chronic kidney disease, unspecified", "709044004",
       "Chronic kidney disease (disorder)", "CKD", chronic=True, min_age=40, prevalence=0.06,
       age_related=True, labs=("bmp", "cbc")),
    _C("depression", "F32.A", "Depression, unspecified", "35489007",
       "Depressive disorder (disorder)", "depression", chronic=True, min_age=12, prevalence=0.08,
       meds=("sertraline", "fluoxetine")),
    _C("anxiety", "F41.9", "Anxiety disorder, unspecified", "197480006",
       "Anxiety disorder (disorder)", "anxiety", chronic=True, min_age=12, prevalence=0.08,
       meds=("sertraline", "clonazepam")),
    _C("gerd", "K21.9", "Gastro-esophageal reflux disease without esophagitis", "235595009",
       "Gastroesophageal reflux disease (disorder)", "GERD", chronic=True, min_age=18,
       prevalence=0.1),
    _C("hypothyroid", "E03.9", "Hypothyroidism, unspecified", "40930008",
       "Hypothyroidism (disorder)", "hypothyroidism", chronic=True, min_age=18, prevalence=0.05,
       meds=("levothyroxine",), labs=("tsh",)),
    _C("oa_knee", "M17.9", "Osteoarthritis of knee, unspecified", "239873007",
       "Osteoarthritis of knee (disorder)", "knee OA", chronic=True, min_age=45, prevalence=0.1,
       age_related=True, meds=("acetaminophen", "naproxen")),
    _C("lbp", "M54.50", "Low back pain, unspecified", "279039007", "Low back pain (finding)",
       "LBP", chronic=True, min_age=18, prevalence=0.07, meds=("ibuprofen",)),
    _C("obesity", "E66.9", "Obesity, unspecified", "414916001", "Obesity (disorder)", "obesity",
       chronic=True, min_age=10, prevalence=0.15),
    _C("migraine", "G43.909", "Migraine, unspecified, not intractable, without status migrainosus",
       "37796009", "Migraine (disorder)", "migraines", chronic=True, min_age=12, max_age=70,
       prevalence=0.06, meds=("naproxen",)),
    _C("osteoporosis", "M81.0", "Age-related osteoporosis without current pathological fracture",
       "64859006", "Osteoporosis (disorder)", "osteoporosis", chronic=True, min_age=55,
       prevalence=0.1, sexes="f", meds=("alendronate",)),
    _C("gout", "M10.9", "Gout, unspecified", "90560007", "Gout (disorder)", "gout", chronic=True,
       min_age=35, prevalence=0.03, meds=("allopurinol", "colchicine")),
    _C("dm1", "E10.9", "Type 1 diabetes mellitus without complications", "46635009",
       "Diabetes mellitus type 1 (disorder)", "DM1", chronic=True, min_age=5, prevalence=0.006,
       meds=("insulin_lispro", "insulin_70_30"), labs=("a1c",)),
    _C("anemia", "D64.9", "Anemia, unspecified", "271737000", "Anemia (disorder)", "anemia",
       chronic=True, prevalence=0.04, meds=("ferrous_sulfate",), labs=("cbc",)),
    _C("etoh", "F10.20", "Alcohol dependence, uncomplicated", "7200002", "Alcoholism (disorder)",
       "EtOH use d/o", chronic=True, min_age=18, prevalence=0.03),
    _C("tobacco", "F17.210", "Nicotine dependence, cigarettes, uncomplicated", "77176002",
       "Smoker (finding)", "tobacco use", chronic=True, min_age=16),
    _C("dementia", "F03.90",
       "Unspecified dementia, unspecified severity, without behavioral disturbance, psychotic "
       "disturbance, mood disturbance, and anxiety", "52448006", "Dementia (disorder)", "dementia",
       chronic=True, min_age=70, prevalence=0.08, meds=("donepezil",)),
    _C("bph", "N40.0", "Benign prostatic hyperplasia without lower urinary tract symptoms",
       "266569009", "Benign prostatic hyperplasia (disorder)", "BPH", chronic=True, min_age=50,
       prevalence=0.2, sexes="m"),
    _C("osa", "G47.33", "Obstructive sleep apnea (adult) (pediatric)", "78275009",
       "Obstructive sleep apnea syndrome (disorder)", "OSA", chronic=True, min_age=30,
       prevalence=0.05),
    _C("allergic_rhinitis", "J30.9", "Allergic rhinitis, unspecified", "61582004",
       "Allergic rhinitis (disorder)", "allergic rhinitis", chronic=True, min_age=3,
       prevalence=0.08, meds=("cetirizine", "loratadine")),
    _C("eczema", "L20.9", "Atopic dermatitis, unspecified", "24079001",
       "Atopic dermatitis (disorder)", "eczema", chronic=True, max_age=30, prevalence=0.06,
       meds=("hydrocortisone_cream",)),
    _C("adhd", "F90.9", "Attention-deficit hyperactivity disorder, unspecified type", "406506008",
       "Attention deficit hyperactivity disorder (disorder)", "ADHD", chronic=True, min_age=5,
       max_age=40, prevalence=0.06, meds=("methylphenidate",)),
    _C("bipolar", "F31.9", "Bipolar disorder, unspecified", "13746004",
       "Bipolar disorder (disorder)", "bipolar d/o", chronic=True, min_age=18, prevalence=0.015),
    _C("ptsd", "F43.10", "Post-traumatic stress disorder, unspecified", "47505003",
       "Posttraumatic stress disorder (disorder)", "PTSD", chronic=True, min_age=18,
       prevalence=0.02, meds=("sertraline",)),
)
# fmt: on

# fmt: off
ACUTE: tuple[ConditionDef, ...] = (
    _C("pneumonia", "J18.9", "Pneumonia, unspecified organism", "233604007",
       "Pneumonia (disorder)", "PNA"),
    _C("uti", "N39.0", "Urinary tract infection, site not specified", "68566005",
       "Urinary tract infectious disease (disorder)", "UTI"),
    _C("ami", "I21.9", "Acute myocardial infarction, unspecified", "22298006",
       "Myocardial infarction (disorder)", "NSTEMI"),
    _C("stroke", "I63.9", "Cerebral infarction, unspecified", "230690007",
       "Cerebrovascular accident (disorder)", "CVA"),
    _C("sepsis", "A41.9", "Sepsis, unspecified organism", "91302008", "Sepsis (disorder)",
       "sepsis"),
    _C("cellulitis", "L03.90", "Cellulitis, unspecified", "128045006", "Cellulitis (disorder)",
       "cellulitis"),
    _C("bronchitis", "J20.9", "Acute bronchitis, unspecified", "10509002",
       "Acute bronchitis (disorder)", "acute bronchitis"),
    _C("sinusitis", "J01.90", "Acute sinusitis, unspecified", "15805002",
       "Acute sinusitis (disorder)", "acute sinusitis"),
    _C("strep", "J02.0", "Streptococcal pharyngitis", "43878008",
       "Streptococcal sore throat (disorder)", "strep pharyngitis"),
    _C("otitis", "H66.90", "Otitis media, unspecified, unspecified ear", "65363002",
       "Otitis media (disorder)", "AOM"),
    _C("gastroenteritis", "A09", "Infectious gastroenteritis and colitis, unspecified", "25374005",
       "Gastroenteritis (disorder)", "AGE"),
    _C("ankle_sprain", "S93.409A",
       "Sprain of unspecified ligament of unspecified ankle, initial encounter", "44465007",
       "Sprain of ankle (disorder)", "ankle sprain"),
    _C("appendicitis", "K35.80", "Unspecified acute appendicitis", "74400008",
       "Appendicitis (disorder)", "acute appendicitis"),
    _C("cholelithiasis", "K80.20",
       "Calculus of gallbladder without cholecystitis without obstruction", "235919008",
       "Cholelithiasis (disorder)", "symptomatic cholelithiasis"),
    _C("syncope", "R55", "Syncope and collapse", "271594007", "Syncope (disorder)", "syncope"),
    _C("chest_pain", "R07.9", "Chest pain, unspecified", "29857009", "Chest pain (finding)", "CP"),
    _C("hip_fracture", "S72.001A",
       "Fracture of unspecified part of neck of right femur, initial encounter for closed "
       "fracture", "5913000", "Fracture of neck of femur (disorder)", "R hip fx"),
    _C("aki", "N17.9", "Acute kidney failure, unspecified", "14669001",
       "Acute renal failure syndrome (disorder)", "AKI"),
    _C("dvt", "I82.409",
       "Acute embolism and thrombosis of unspecified deep veins of unspecified lower extremity",
       "128053003", "Deep venous thrombosis (disorder)", "DVT"),
    _C("pe", "I26.99", "Other pulmonary embolism without acute cor pulmonale", "59282003",
       "Pulmonary embolism (disorder)", "PE"),
    _C("bronchiolitis", "J21.9", "Acute bronchiolitis, unspecified", "4120002",
       "Bronchiolitis (disorder)", "bronchiolitis"),
    _C("influenza", "J11.1",
       "Influenza due to unidentified influenza virus with other respiratory manifestations",
       "6142004", "Influenza (disorder)", "flu"),
    _C("covid", "U07.1", "COVID-19", "840539006",
       "Disease caused by severe acute respiratory syndrome coronavirus 2 (disorder)", "COVID-19"),
    _C("concussion", "S06.0X0A", "Concussion without loss of consciousness, initial encounter",
       "110030002", "Concussion injury of brain (disorder)", "concussion"),
    _C("suicidal", "R45.851", "Suicidal ideations", "6471006", "Suicidal thoughts (finding)",
       "SI"),
    _C("dehydration", "E86.0", "Dehydration", "34095006", "Dehydration (disorder)", "dehydration"),
    _C("copd_exac", "J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation",
       "195951007", "Acute exacerbation of chronic obstructive airways disease (disorder)",
       "COPD exacerbation"),
    _C("asthma_exac", "J45.901", "Unspecified asthma with (acute) exacerbation", "708038006",
       "Acute exacerbation of asthma (disorder)", "asthma exacerbation"),
)
# fmt: on

CONDITIONS: dict[str, ConditionDef] = {c.key: c for c in CHRONIC + ACUTE}
