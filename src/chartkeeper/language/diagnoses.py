"""ICD-10-CM diagnoses in lay words: a title a patient can read and one or two plain sentences.

About 560 common codes have hand-written wording in ``data/diagnosis_lay.tsv`` (``curated``).
Any other code is explained from its official title (``generated``): the title is kept, filler
("unspecified", "not elsewhere classified") is dropped, and the medical words it contains are
glossed from a small word list. Nothing is added that the title does not say: a gloss translates
a word, it never adds a cause, a treatment or an outlook. A code without a title and without
curated wording is given back as written (``unknown``), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

DATA_FILE = "diagnosis_lay.tsv"
CURATED, GENERATED, UNKNOWN = "curated", "generated", "unknown"

#: Condition words: glossed in the sentence, and the first one also in the title's brackets.
CONDITION_WORDS: dict[str, str] = {
    "essential (primary) hypertension": "high blood pressure",
    "hypertension": "high blood pressure",
    "hypotension": "low blood pressure",
    "hyperlipidemia": "high levels of fats in the blood",
    "hypercholesterolemia": "high cholesterol",
    "hyperglycemia": "high blood sugar",
    "hypoglycemia": "low blood sugar",
    "hyperkalemia": "high potassium in the blood",
    "hypokalemia": "low potassium in the blood",
    "hyponatremia": "low sodium in the blood",
    "hypernatremia": "high sodium in the blood",
    "anemia": "a low number of red blood cells",
    "tachycardia": "a fast heartbeat",
    "bradycardia": "a slow heartbeat",
    "atrial fibrillation": "an irregular heartbeat",
    "palpitations": "a feeling that the heart is racing or pounding",
    "angina pectoris": "chest pain from the heart",
    "myocardial infarction": "a heart attack",
    "cerebral infarction": "a stroke",
    "embolism": "a blood clot that has moved",
    "thrombosis": "a blood clot",
    "aneurysm": "a bulge in a blood vessel",
    "atherosclerosis": "hardening of the arteries",
    "varicose veins": "swollen, twisted veins",
    "neoplasm": "a growth",
    "malignant neoplasm": "cancer",
    "benign neoplasm": "a growth that is not cancer",
    "carcinoma": "a type of cancer",
    "lymphoma": "a cancer of the lymph system",
    "leukemia": "a cancer of the cells that make blood",
    "melanoma": "a cancer of the cells that give skin its color",
    "lipoma": "a fatty lump that is not cancer",
    "fracture": "a broken bone",
    "contusion": "a bruise",
    "laceration": "a cut",
    "abrasion": "a scrape",
    "sprain": "a stretched or torn ligament",
    "strain": "a pulled muscle or tendon",
    "dislocation": "a bone pushed out of its joint",
    "dyspnea": "shortness of breath",
    "syncope": "fainting",
    "vertigo": "a spinning feeling",
    "edema": "swelling from fluid",
    "pruritus": "itching",
    "urticaria": "hives",
    "erythema": "redness of the skin",
    "calculus": "a stone",
    "cholelithiasis": "gallstones",
    "hematuria": "blood in the urine",
    "dysuria": "pain when passing urine",
    "epistaxis": "a nosebleed",
    "insomnia": "trouble sleeping",
    "dysphagia": "trouble swallowing",
    "dyspepsia": "indigestion",
    "hemorrhoids": "swollen veins near the anus",
    "hemorrhage": "bleeding",
    "malaise": "feeling unwell",
    "fatigue": "tiredness",
    "pyrexia": "fever",
    "emesis": "vomiting",
    "myalgia": "muscle pain",
    "arthralgia": "joint pain",
    "neuralgia": "nerve pain",
    "cephalgia": "headache",
    "cervicalgia": "neck pain",
    "dorsalgia": "back pain",
    "lumbago": "low back pain",
    "sciatica": "pain along the nerve down the back of the leg",
    "osteoarthritis": "wear and tear of a joint",
    "arthropathy": "a joint problem",
    "osteoporosis": "thin, weak bones",
    "neuropathy": "nerve damage",
    "polyneuropathy": "damage to many nerves",
    "nephropathy": "kidney damage",
    "retinopathy": "damage to the back of the eye",
    "cardiomyopathy": "a disease of the heart muscle",
    "myopathy": "a muscle disease",
    "encephalopathy": "a problem with how the brain works",
    "dementia": "memory loss and trouble thinking",
    "obesity": "a high amount of body fat",
    "dehydration": "loss of too much body water",
    "volume depletion": "loss of body fluid",
    "cataract": "clouding of the lens of the eye",
    "glaucoma": "high pressure inside the eye",
    "cerumen": "earwax",
    "impacted cerumen": "a blockage of earwax",
    "otitis media": "swelling and irritation of the middle ear",
    "otitis externa": "swelling and irritation of the ear canal",
    "conjunctivitis": "pink eye",
    "gingivitis": "swelling and irritation of the gums",
    "cellulitis": "a skin infection",
    "abscess": "a pocket of pus",
    "pneumonia": "a lung infection",
    "sepsis": "the body's severe reaction to an infection",
    "reflux": "stomach contents coming back up",
    "gastro-esophageal reflux disease": "acid reflux",
    "diverticulosis": "small pouches in the wall of the bowel",
    "diverticulitis": "infected or swollen pouches in the bowel wall",
    "hernia": "a bulge of tissue through a weak spot in the muscle",
    "constipation": "hard or infrequent bowel movements",
    "incontinence": "leaking urine or stool",
    "hyperplasia": "an increase in the number of cells",
    "hypothyroidism": "an underactive thyroid",
    "hyperthyroidism": "an overactive thyroid",
    "goiter": "an enlarged thyroid",
    "alopecia": "hair loss",
    "acne": "pimples",
    "nevus": "a mole",
    "verruca": "a wart",
    "tinea": "a fungal skin infection",
    "candidiasis": "a yeast infection",
    "scoliosis": "a sideways curve of the spine",
    "spondylosis": "wear and tear of the spine",
    "stenosis": "narrowing",
    "effusion": "fluid build-up",
    "lymphadenopathy": "swollen lymph nodes",
    "seizure": "a sudden burst of electrical activity in the brain",
    "migraine": "a type of severe headache",
    "cyst": "a sac filled with fluid",
    "polyp": "a small growth on a lining",
    "ulcer": "an open sore",
}
CONDITION_ROOTS: dict[str, str] = {
    "pharyng": "the throat",
    "laryng": "the voice box",
    "tonsill": "the tonsils",
    "sinus": "the sinuses",
    "rhin": "the inside of the nose",
    "bronch": "the airways",
    "bronchiol": "the small airways",
    "gastr": "the stomach",
    "esophag": "the food pipe",
    "gastroenter": "the stomach and bowel",
    "enter": "the small bowel",
    "col": "the large bowel",
    "proct": "the rectum",
    "hepat": "the liver",
    "pancreat": "the pancreas",
    "cholecyst": "the gallbladder",
    "appendic": "the appendix",
    "nephr": "the kidneys",
    "pyelonephr": "the kidney",
    "cyst": "the bladder",
    "urethr": "the urethra",
    "prostat": "the prostate",
    "vagin": "the vagina",
    "cervic": "the cervix",
    "mast": "the breast",
    "dermat": "the skin",
    "arthr": "a joint",
    "tendin": "a tendon",
    "burs": "a bursa, a small fluid sac near a joint",
    "fasci": "the tissue under the skin that wraps the muscles",
    "myos": "the muscles",
    "oste": "the bone",
    "osteomyel": "the bone",
    "encephal": "the brain",
    "mening": "the lining of the brain and spinal cord",
    "neur": "a nerve",
    "myocard": "the heart muscle",
    "pericard": "the sac around the heart",
    "endocard": "the lining of the heart",
    "vascul": "the blood vessels",
    "arter": "an artery",
    "phleb": "a vein",
    "thyroid": "the thyroid",
    "uve": "the middle layer of the eye",
    "kerat": "the clear front of the eye",
    "blephar": "the eyelid",
    "stomat": "the mouth",
    "gingiv": "the gums",
    "periodont": "the gums and tissue around the teeth",
    "vulv": "the vulva",
    "balan": "the head of the penis",
    "epididym": "the tube behind the testicle",
    "orch": "a testicle",
    "lymphaden": "the lymph nodes",
    "capsul": "the capsule around a joint",
    "synov": "the lining of a joint",
    "spondyl": "the spine",
}
#: Describing words: glossed in the sentence only.
DESCRIBING_WORDS: dict[str, str] = {
    "acute": "sudden or short-term",
    "chronic": "long-lasting",
    "bilateral": "on both sides",
    "unilateral": "on one side",
    "pulmonary": "having to do with the lungs",
    "renal": "having to do with the kidneys",
    "hepatic": "having to do with the liver",
    "cardiac": "having to do with the heart",
    "cerebral": "having to do with the brain",
    "gastric": "having to do with the stomach",
    "cutaneous": "having to do with the skin",
    "venous": "having to do with the veins",
    "benign": "not cancer",
    "malignant": "cancer",
    "recurrent": "coming back again",
    "idiopathic": "with no known cause",
    "congenital": "present from birth",
    "exacerbation": "a flare-up",
    "lumbar": "in the lower back",
    "thoracic": "in the chest or upper back",
    "abdominal": "in the belly",
}
#: "unspecified" is dropped only where it qualifies the whole title (", unspecified" at the end
#: or before the next comma, or a leading "Unspecified"): inside a phrase it carries meaning.
FILLER = re.compile(
    r",\s*(?:unspecified|not elsewhere classified|NOS)\b(?=,|$)|^Unspecified\s+", re.I
)
MAX_GLOSSES = 2
CODE_SHAPE = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
#: A sentence ends at . ! or ? before a capital, but not after an initial ("E. coli").
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<![A-Z]\.)\s+(?=[A-Z])")


@dataclass(frozen=True)
class DiagnosisExplanation:
    """A code's lay title and sentences; ``source`` says whether a person wrote them."""

    code: str  #: dotted, upper case ("E11.9")
    lay_title: str
    sentences: tuple[str, ...]
    source: str  #: curated | generated | unknown


@cache
def curated_diagnoses() -> dict[str, DiagnosisExplanation]:
    """The hand-written explanations shipped in ``data/diagnosis_lay.tsv``, by dotted code."""
    text = files("chartkeeper.language").joinpath(f"data/{DATA_FILE}").read_text("utf-8")
    curated: dict[str, DiagnosisExplanation] = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "code\t")):
            continue
        code, title, sentences = line.split("\t")
        split = tuple(s.strip() for s in SENTENCE_BREAK.split(sentences) if s.strip())
        curated[code] = DiagnosisExplanation(code, title, split, CURATED)
    return curated


def dotted_code(code: str) -> str:
    """``e119`` or ``E11.9`` → ``E11.9`` (ICD-10-CM's dot after the third character)."""
    plain = code.strip().upper().replace(".", "")
    if not CODE_SHAPE.fullmatch(plain):
        return code.strip()  # not an ICD-10-CM code: left as written
    return f"{plain[:3]}.{plain[3:]}" if len(plain) > 3 else plain


def explain_diagnosis(code: str, official_title: str | None) -> DiagnosisExplanation:
    """The curated wording for ``code``, else wording generated from ``official_title``."""
    dotted = dotted_code(code)
    curated = curated_diagnoses().get(dotted)
    if curated is not None:
        return curated
    title = (official_title or "").strip()
    if not title:
        return DiagnosisExplanation(dotted, code.strip(), (), UNKNOWN)
    return generate_from_title(dotted, title)


def generate_from_title(code: str, official_title: str) -> DiagnosisExplanation:
    """The official title with filler dropped and its medical words glossed (module doc)."""
    title = _without_filler(official_title)
    glosses = _glosses(title)
    condition = next((g for g in glosses if g[2]), None)
    lay_title = f"{title} ({condition[1]})" if condition else title
    sentences = [_opening(code)]
    if glosses:
        meanings = [f"\u201c{word}\u201d means {gloss}" for word, gloss, _ in glosses]
        sentences.append("Here, " + ", and ".join(meanings) + ".")
    return DiagnosisExplanation(code, lay_title, tuple(sentences), GENERATED)


def _without_filler(title: str) -> str:
    cleaned = FILLER.sub("", title).strip(" ,")
    cleaned = re.sub(r"\s{2,}", " ", cleaned)
    return (cleaned[:1].upper() + cleaned[1:]) if cleaned else title


def _opening(code: str) -> str:
    letter = code[:1].upper()
    if letter == "Z":
        return (
            "This is the name your care team used for a reason for a visit"
            " or a fact about your health."
        )
    if letter == "R":
        return "This is the name your care team used for a sign or symptom."
    if letter in "VWXY":
        return "This code describes how an injury happened."
    if letter in "ST":
        return "This is the name your care team used for this injury or harm."
    return "This is the name your care team used for this condition."


def _glosses(title: str) -> list[tuple[str, str, bool]]:
    """Up to ``MAX_GLOSSES`` (word as in the title, gloss, is a condition), conditions first."""
    lower = title.lower()
    found: list[tuple[int, str, str, bool]] = []
    taken: list[range] = []
    for pattern, table, is_condition in _PATTERNS:
        for match in pattern.finditer(lower):
            if any(match.start() in r or match.end() - 1 in r for r in taken):
                continue
            taken.append(range(match.start(), match.end()))
            gloss = table[match.group()] if table else _itis_gloss(match.group(1))
            if gloss:
                found.append((match.start(), match.group(), gloss, is_condition))
    found.sort(key=lambda f: (not f[3], f[0]))
    unique: dict[str, tuple[str, str, bool]] = {}
    for _, word, gloss, is_condition in found:
        unique.setdefault(word, (word, gloss, is_condition))
    return list(unique.values())[:MAX_GLOSSES]


def _itis_gloss(stem: str) -> str:
    """ "tonsillitis" → "swelling and irritation of the tonsils"; "" for an unknown root."""
    for root in _ROOTS_LONGEST_FIRST:
        if stem.endswith(root):
            return f"swelling and irritation of {CONDITION_ROOTS[root]}"
    return ""


def _alternation(terms: dict[str, str]) -> re.Pattern[str]:
    longest_first = sorted(terms, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in longest_first) + r")\b")


_ROOTS_LONGEST_FIRST = sorted(CONDITION_ROOTS, key=len, reverse=True)
_PATTERNS: tuple[tuple[re.Pattern[str], dict[str, str], bool], ...] = (
    (_alternation(CONDITION_WORDS), CONDITION_WORDS, True),
    (re.compile(r"\b([a-z]+)itis\b"), {}, True),
    (_alternation(DESCRIBING_WORDS), DESCRIBING_WORDS, False),
)
