"""Clinical shorthand phrases per visit scenario, from which notes are composed."""

from __future__ import annotations

from .notephrase_types import Phrases
from .notephrases_inpatient import INPATIENT

_P = Phrases

UTI = _P(
    "dysuria x{dur}",
    ("+ frequency, urgency", "suprapubic discomfort"),
    ("fevers", "flank pain", "N/V", "vaginal d/c"),
    {"Abd": "soft, mild suprapubic TTP, no CVA tenderness"},
    "Acute cystitis. UA + LE, + nitrites. no e/o pyelo",
    ("UCx sent", "push PO fluids", "return if fever/flank pain"),
)
OTITIS = _P(
    "ear pain/fever x{dur}",
    ("tugging at {side} ear per mom", "+ fussiness", "decreased PO"),
    ("vomiting", "rash", "ear d/c"),
    {"HEENT": "{side} TM bulging, erythematous, no light reflex"},
    "{side} AOM",
    ("APAP/ibuprofen prn", "f/u PCP 2-3 days if not improving"),
    dur=(1, 3),
)
FLU = _P(
    "fevers/body aches x{dur}",
    ("+ cough, myalgias, HA", "sick contact at work", "Tmax 102F at home"),
    ("SOB", "CP", "neck stiffness"),
    {"HEENT": "OP mildly erythematous"},
    "Influenza-like illness, rapid flu +",
    (
        "supportive care",
        "APAP/ibuprofen prn fever",
        "oseltamivir not started, >48h of sx",
        "return if SOB",
    ),
    dur=(2, 4),
)

OUTPATIENT: dict[str, Phrases] = {
    "ed_chest_pain": _P(
        "CP x{dur}",
        ("substernal pressure, nonradiating", "worse w/ exertion", "pain 6/10", "started at rest"),
        ("SOB", "N/V", "palpitations", "LE swelling", "recent travel"),
        {"Chest": "no TTP of chest wall"},
        "CP, likely noncardiac vs. unstable angina. r/o ACS",
        (
            "serial trop x2",
            "EKG: NSR, no acute ST changes",
            "CXR: no acute process",
            "outpt stress test",
            "return precautions given",
        ),
        "Trop neg x2 ({trop}), EKG w/o ischemic changes. CP resolved after ASA.",
        hours=True,
        dur=(2, 10),
    ),
    "ed_ankle": _P(
        "{side} ankle pain after inversion injury x{dur}",
        (
            "rolled ankle stepping off curb",
            "able to bear wt w/ pain",
            "swelling over lat malleolus",
        ),
        ("numbness", "tingling", "other injuries", "head strike"),
        {
            "Ext": "{side} ankle: swelling and TTP over ATFL, no bony TTP at post malleoli, "
            "NV intact distally"
        },
        "{side} ankle sprain. Ottawa ankle rules neg, no XR indicated. no fx suspected",
        ("RICE", "ASO brace", "WBAT", "f/u PCP 1 wk prn"),
        hours=True,
        dur=(2, 20),
    ),
    "ed_uti": UTI,
    "sick_uti": UTI,
    "ed_gastro": _P(
        "N/V/D x{dur}",
        (
            "multiple episodes NBNB emesis",
            "watery diarrhea, nonbloody",
            "sick contacts at home",
            "poor PO intake",
        ),
        ("hematemesis", "BRBPR", "severe abd pain", "recent abx"),
        {
            "Abd": "soft, mild diffuse TTP, no rebound/guarding, hyperactive BS",
            "Gen": "tired appearing, dry MM",
        },
        "Viral gastroenteritis w/ mild dehydration. doubt surgical abd",
        ("1L NS bolus", "PO challenge - tolerated", "BRAT diet", "return precautions reviewed"),
        dur=(1, 3),
    ),
    "ed_asthma": _P(
        "wheezing/SOB x{dur}",
        ("using albuterol q2h at home w/o relief", "URI sx prior", "+ chest tightness"),
        ("fevers", "CP", "prior intubations"),
        {
            "Lungs": "diffuse exp wheezes, mod air movement, + accessory muscle use",
            "Gen": "speaking in full sentences",
        },
        "Asthma exacerbation, moderate. no e/o PNA",
        (
            "duonebs x3",
            "peak flow improved after tx",
            "asthma action plan reviewed",
            "f/u PCP 2-3 days",
        ),
        dur=(1, 3),
    ),
    "ed_concussion": _P(
        "head injury/HA x{dur}",
        ("fell and struck head", "+ mild HA", "brief dizziness"),
        ("LOC", "vomiting", "vision changes", "anticoagulant use", "neck pain"),
        {
            "Neuro": "A&Ox3, CN II-XII intact, no focal deficits, nl gait",
            "HEENT": "small hematoma L forehead",
        },
        "Concussion w/o LOC. CT head neg for acute intracranial process",
        ("head injury precautions", "cognitive rest", "no sports until cleared", "f/u PCP 1 wk"),
        hours=True,
        dur=(1, 8),
    ),
    "ed_syncope": _P(
        "syncope x1 today",
        (
            "LOC ~30 sec while standing in line",
            "+ prodrome of lightheadedness",
            "witnessed, no seizure-like activity",
        ),
        ("CP", "palpitations", "tongue biting", "incontinence", "head strike"),
        {"Neuro": "nonfocal"},
        "Syncope, likely vasovagal vs orthostatic. ?arrhythmia - low suspicion",
        (
            "orthostatic VS",
            "tele in ED - no events",
            "EKG NSR, nl intervals",
            "outpt Holter",
            "f/u PCP",
        ),
    ),
    "ed_flu": FLU,
    "sick_flu": FLU,
    "ed_covid": _P(
        "cough/fever x{dur}",
        ("+ loss of taste/smell", "+ fatigue", "known COVID exposure"),
        ("SOB at rest", "CP"),
        {"Lungs": "scattered rhonchi, no resp distress"},
        "COVID-19, mild, not hypoxic",
        (
            "isolation precautions reviewed",
            "supportive care",
            "pulse ox at home, return if SpO2 <94%",
        ),
        dur=(2, 6),
    ),
    "ed_cellulitis": _P(
        "{side} leg redness/swelling x{dur}",
        ("spreading erythema", "warm to touch", "small abrasion noted"),
        ("fevers", "chills", "purulent drainage"),
        {"Skin": "{side} lower leg w/ 10x8 cm area of erythema, warmth, TTP, no fluctuance"},
        "Nonpurulent cellulitis {side} LE. no abscess on bedside US. ?DVT - low suspicion",
        ("margins marked", "elevate leg", "recheck 48h"),
        dur=(2, 4),
    ),
    "ed_otitis": OTITIS,
    "sick_otitis": OTITIS,
    "ed_si": _P(
        "SI",
        ("worsening depressed mood x weeks", "+ passive SI, no plan", "recent job loss"),
        ("HI", "AVH", "prior attempts", "access to firearms"),
        {"Psych": "flat affect, poor eye contact, linear thought process, + SI w/o plan, no HI"},
        "MDD w/ passive SI. low-moderate risk. Medically cleared",
        ("1:1 sitter", "BH c/s", "safety plan created", "crisis line info given"),
    ),
    "sick_sinusitis": _P(
        "sinus congestion x{dur}",
        ("facial pressure", "purulent nasal d/c", "sx worsening after initial improvement"),
        ("fevers", "vision changes", "neck stiffness"),
        {"HEENT": "maxillary sinus TTP, purulent rhinorrhea, OP clear"},
        "Acute bacterial sinusitis",
        ("saline rinses", "f/u if not improved 7-10d"),
        dur=(10, 14),
    ),
    "sick_bronchitis": _P(
        "cough x{dur}",
        ("productive cough", "post-tussive chest soreness"),
        ("fevers", "SOB", "hemoptysis"),
        {"Lungs": "scattered rhonchi clearing w/ cough, no wheezes or crackles"},
        "Acute bronchitis, likely viral. No abx indicated",
        ("supportive care", "honey/tea", "RTC if not improved 3 wks"),
        dur=(5, 12),
    ),
    "sick_strep": _P(
        "sore throat x{dur}",
        ("+ fever", "painful swallowing"),
        ("cough", "rhinorrhea", "drooling"),
        {"HEENT": "tonsillar exudates, tender anterior cervical LAD"},
        "Strep pharyngitis, rapid strep +",
        ("complete full abx course", "return to school 12h after abx"),
        dur=(1, 3),
    ),
    "sick_back": _P(
        "low back pain x{dur}",
        ("after lifting boxes", "pain 6/10, worse w/ bending"),
        ("bowel/bladder incontinence", "saddle anesthesia", "LE weakness", "fevers"),
        {
            "MSK": "paraspinal muscle TTP, SLR neg bilat",
            "Neuro": "strength 5/5 BLE, reflexes 2+ symmetric",
        },
        "Acute mechanical LBP, no red flags. no imaging indicated",
        ("heat", "stay active", "PT referral if not improving", "f/u 4-6 wks prn"),
        dur=(3, 10),
    ),
}

PHRASES: dict[str, Phrases] = {**OUTPATIENT, **INPATIENT}

NORMAL_EXAM: dict[str, tuple[str, ...]] = {
    "Gen": ("NAD, A&Ox3", "well appearing, NAD", "alert, NAD"),
    "HEENT": ("NCAT, MMM, OP clear", "PERRL, EOMI, MMM"),
    "CV": ("RRR, no m/r/g", "RRR, nl S1/S2, no murmurs"),
    "Lungs": ("CTAB, no wheezes/rales/rhonchi", "CTAB", "clear bilat, nl WOB"),
    "Abd": ("soft, NT/ND, +BS", "soft, nontender, nondistended"),
    "Ext": ("no edema, 2+ DP pulses bilat", "no c/c/e", "WWP, no edema"),
    "Neuro": ("grossly intact, no focal deficits", "A&Ox3, moves all ext"),
}

# Exam findings a chronic problem leaves even on a routine visit: problem -> (system, finding)
CHRONIC_EXAM: dict[str, tuple[str, str]] = {
    "afib": ("CV", "irregularly irregular, no murmurs"),
    "chf": ("Ext", "trace BLE edema"),
    "copd": ("Lungs", "decreased BS bilat, prolonged exp phase"),
    "obesity": ("Gen", "obese, NAD"),
    "dementia": ("Neuro", "oriented to self only, pleasant, no focal deficits"),
    "oa_knee": ("Ext", "crepitus bilat knees, no effusion"),
    "eczema": ("Skin", "dry, lichenified patches antecubital fossae"),
}

# Per chronic problem: how its line in a problem-oriented A/P may read.
PROBLEM_STATUS: dict[str, tuple[str, ...]] = {
    "htn": ("BP {bp} today, at goal", "BP {bp}, above goal - will titrate", "BP {bp}, well ctrl"),
    "dm2": (
        "well controlled",
        "suboptimally controlled, reinforced diet/exercise",
        "A1c above goal, discussed adherence",
    ),
    "dm1": ("on basal-bolus insulin, some hypoglycemia overnight", "well controlled on pump"),
    "hld": ("on statin, tolerating well", "LDL above goal, adherence discussed"),
    "copd": ("stable, no recent exacerbations", "mild DOE at baseline, no home O2"),
    "asthma": ("well controlled, using rescue inhaler <2x/wk", "not well controlled, step up"),
    "chf": ("euvolemic on exam, NYHA II", "wt stable, no orthopnea"),
    "afib": ("rate controlled", "INR therapeutic, no bleeding"),
    "cad": ("no angina", "stable, no CP since last visit"),
    "ckd": ("Cr stable", "avoid NSAIDs, renally dose meds"),
    "depression": ("PHQ-9 improved", "mood stable on current regimen"),
    "anxiety": ("GAD-7 improved", "sx fairly controlled"),
    "gerd": ("sx controlled w/ diet mods", "occasional heartburn, elevate HOB"),
    "hypothyroid": ("euthyroid on exam", "fatigue improved"),
    "obesity": ("BMI {bmi}, counseled on diet/exercise", "BMI {bmi}, discussed nutrition referral"),
    "anemia": ("Hgb stable", "on iron, recheck CBC"),
    "gout": ("no flares", "1 flare since last visit"),
    "osteoporosis": ("on bisphosphonate, DEXA due", "Ca/vit D advised, fall precautions"),
    "dementia": ("family reports gradual decline", "MoCA stable"),
    "osa": ("using CPAP nightly", "not using CPAP consistently, reinforced"),
    "bph": ("nocturia x2", "LUTS stable"),
    "tobacco": (
        "still smoking 1 ppd, counseled on cessation >3 min",
        "precontemplative re: quitting",
    ),
    "etoh": ("drinking 4-6 beers/day, counseled", "cut down per pt"),
}
