"""Condition vocabulary: abbreviations mapped to canonical names, and the names the prose
reader looks for in notes that have no assessment or diagnosis heading.

Abbreviations are matched case-sensitively ("MI", not "mi" inside a word) and expanded word by
word in a diagnosis's ``canonical`` name; the diagnosis ``text`` keeps the words as written.
"""

from __future__ import annotations

import re

# Abbreviation (as clinicians write it) -> canonical name.
ABBREVIATIONS: dict[str, str] = {
    "HTN": "hypertension",
    "T2DM": "type 2 diabetes mellitus",
    "DM2": "type 2 diabetes mellitus",
    "DMII": "type 2 diabetes mellitus",
    "T1DM": "type 1 diabetes mellitus",
    "DM1": "type 1 diabetes mellitus",
    "DM": "diabetes mellitus",
    "CHF": "congestive heart failure",
    "HFrEF": "heart failure with reduced ejection fraction",
    "HFpEF": "heart failure with preserved ejection fraction",
    "COPD": "chronic obstructive pulmonary disease",
    "CKD": "chronic kidney disease",
    "ESRD": "end-stage renal disease",
    "AKI": "acute kidney injury",
    "AFib": "atrial fibrillation",
    "Afib": "atrial fibrillation",
    "A-fib": "atrial fibrillation",
    "AF": "atrial fibrillation",
    "RVR": "rapid ventricular response",
    "MI": "myocardial infarction",
    "NSTEMI": "non-ST-elevation myocardial infarction",
    "STEMI": "ST-elevation myocardial infarction",
    "ACS": "acute coronary syndrome",
    "CAD": "coronary artery disease",
    "CABG": "coronary artery bypass graft",
    "PCI": "percutaneous coronary intervention",
    "URI": "upper respiratory infection",
    "UTI": "urinary tract infection",
    "GERD": "gastroesophageal reflux disease",
    "HLD": "hyperlipidemia",
    "DVT": "deep vein thrombosis",
    "PE": "pulmonary embolism",
    "VTE": "venous thromboembolism",
    "OSA": "obstructive sleep apnea",
    "BPH": "benign prostatic hyperplasia",
    "CVA": "stroke",
    "TIA": "transient ischemic attack",
    "DKA": "diabetic ketoacidosis",
    "GIB": "gastrointestinal bleed",
    "UGIB": "upper gastrointestinal bleed",
    "LGIB": "lower gastrointestinal bleed",
    "GI": "gastrointestinal",
    "OA": "osteoarthritis",
    "RA": "rheumatoid arthritis",
    "SBP": "spontaneous bacterial peritonitis",
    "CAP": "community-acquired pneumonia",
    "MRSA": "methicillin-resistant Staphylococcus aureus",
    "RLL": "right lower lobe",
    "RUL": "right upper lobe",
    "LLL": "left lower lobe",
    "RLQ": "right lower quadrant",
    "C. diff": "Clostridioides difficile",
}

# Full names the prose reader recognises (lower case; longer names win).
CONDITION_NAMES: tuple[str, ...] = (
    "acute coronary syndrome",
    "acute kidney injury",
    "alcohol use disorder",
    "allergic rhinitis",
    "anemia",
    "anxiety",
    "appendicitis",
    "ascites",
    "asthma",
    "atrial fibrillation",
    "atrial flutter",
    "breast cancer",
    "bronchitis",
    "cellulitis",
    "chronic kidney disease",
    "chronic obstructive pulmonary disease",
    "cirrhosis",
    "colon cancer",
    "community-acquired pneumonia",
    "congestive heart failure",
    "copd exacerbation",
    "coronary artery disease",
    "deep vein thrombosis",
    "dehydration",
    "dementia",
    "depression",
    "diabetic ketoacidosis",
    "diverticulitis",
    "epilepsy",
    "esophageal cancer",
    "gastroenteritis",
    "gastroesophageal reflux disease",
    "gi bleed",
    "gout",
    "heart failure",
    "hepatitis",
    "hyperlipidemia",
    "hypertension",
    "hyperthyroidism",
    "hypothyroidism",
    "influenza",
    "iron deficiency anemia",
    "kidney stones",
    "lung cancer",
    "lupus",
    "migraine",
    "myocardial infarction",
    "obesity",
    "osteoarthritis",
    "osteoporosis",
    "pancreatitis",
    "parkinson disease",
    "pharyngitis",
    "pneumonia",
    "polycystic kidney disease",
    "prostate cancer",
    "pulmonary embolism",
    "pyelonephritis",
    "rheumatoid arthritis",
    "sepsis",
    "sinusitis",
    "sleep apnea",
    "stroke",
    "syncope",
    "thyroid cancer",
    "transient ischemic attack",
    "type 1 diabetes",
    "type 1 diabetes mellitus",
    "type 2 diabetes",
    "type 2 diabetes mellitus",
    "urinary tract infection",
)
# Abbreviations the prose reader counts as conditions (anatomy and procedures are not).
_PROSE_ABBREVIATIONS = [
    "HTN",
    "T2DM",
    "DM2",
    "DMII",
    "T1DM",
    "CHF",
    "HFrEF",
    "HFpEF",
    "COPD",
    "CKD",
    "ESRD",
    "AKI",
    "AFib",
    "Afib",
    "A-fib",
    "MI",
    "NSTEMI",
    "STEMI",
    "ACS",
    "CAD",
    "URI",
    "UTI",
    "GERD",
    "HLD",
    "DVT",
    "PE",
    "VTE",
    "OSA",
    "BPH",
    "CVA",
    "TIA",
    "DKA",
    "GIB",
    "UGIB",
    "OA",
]

_STAGE = r"(?:[ \t]+(?:stage[ \t]+)?(?:[1-5][ab]?|I{1,3}[ab]?|IV|V)\b)?"
_CKD = r"(?:chronic\s+kidney\s+disease|CKD)"
CONDITION_RE = re.compile(
    rf"(?<![\w-])(?:(?i:{_CKD}){_STAGE}|"
    + "|".join(
        r"(?i:" + r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", name)) + r")"
        for name in sorted(CONDITION_NAMES, key=len, reverse=True)
    )
    + "|"
    + "|".join(re.escape(a) for a in sorted(_PROSE_ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w-])"
)
_ABBREV_RE = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w-])"
)
_CKD_STAGE_RE = re.compile(r"\bCKD[ \t]*(?:stage[ \t]*)?(?P<stage>[1-5][ab]?)\b", re.IGNORECASE)


def canonical_name(text: str) -> str:
    """The diagnosis with its abbreviations expanded, lower case: "CKD 3a" ->
    "chronic kidney disease stage 3a", "Acute on chronic HFrEF" -> "acute on chronic heart
    failure with reduced ejection fraction"."""
    text = _CKD_STAGE_RE.sub(lambda m: f"chronic kidney disease stage {m.group('stage')}", text)
    expanded = _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(0)], text)
    return " ".join(expanded.lower().split())


def is_condition(text: str) -> bool:
    """True when ``text`` names a known condition somewhere."""
    return CONDITION_RE.search(text) is not None
