"""Plain-language glossary for lay audiences, also used by grounding to accept synonyms.

Each entry lists the clinical spellings/abbreviations of one concept and how to say it to
a patient or family member. Grounding treats all spellings of an entry (and its plain
phrase) as the same concept, so "high blood pressure" in a reply is verified by
"Hypertension" in the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class GlossaryEntry:
    terms: tuple[str, ...]
    plain: str


GLOSSARY: tuple[GlossaryEntry, ...] = (
    GlossaryEntry(
        ("essential hypertension", "hypertension", "htn", "high blood pressure"),
        "high blood pressure (hypertension)",
    ),
    GlossaryEntry(
        (
            "hyperlipidemia",
            "hyperlipidaemia",
            "hypercholesterolemia",
            "dyslipidemia",
            "hld",
            "high cholesterol",
        ),
        "high cholesterol (hyperlipidemia)",
    ),
    GlossaryEntry(
        ("community acquired pneumonia", "pneumonia", "cap"), "a lung infection (pneumonia)"
    ),
    GlossaryEntry(
        ("type 2 diabetes mellitus", "type 2 diabetes", "type ii diabetes", "t2dm", "dm2"),
        "type 2 diabetes (high blood sugar)",
    ),
    GlossaryEntry(
        ("type 1 diabetes mellitus", "type 1 diabetes", "t1dm"),
        "type 1 diabetes (the body does not make enough insulin)",
    ),
    GlossaryEntry(
        ("congestive heart failure", "heart failure", "chf", "hfref", "hfpef"),
        "heart failure (the heart is not pumping as strongly as it should)",
    ),
    GlossaryEntry(
        ("atrial fibrillation", "afib", "a fib"), "an irregular heartbeat (atrial fibrillation)"
    ),
    GlossaryEntry(
        ("chronic obstructive pulmonary disease", "copd"),
        "a long-term lung disease that makes breathing harder (COPD)",
    ),
    GlossaryEntry(
        ("chronic kidney disease", "ckd"),
        "long-term kidney disease (the kidneys are not filtering as well as they should)",
    ),
    GlossaryEntry(("urinary tract infection", "uti"), "a bladder or urine infection (UTI)"),
    GlossaryEntry(
        ("coronary artery disease", "cad"), "narrowed heart arteries (coronary artery disease)"
    ),
    GlossaryEntry(("myocardial infarction", "stemi", "nstemi"), "a heart attack"),
    GlossaryEntry(("cerebrovascular accident", "cva", "stroke"), "a stroke"),
    GlossaryEntry(("transient ischemic attack", "tia"), "a mini-stroke (TIA)"),
    GlossaryEntry(("asthma",), "asthma (the airways narrow and make breathing harder)"),
    GlossaryEntry(
        ("gastroesophageal reflux disease", "gerd", "gord", "acid reflux"),
        "acid reflux (stomach acid coming up into the food pipe)",
    ),
    GlossaryEntry(("hypothyroidism",), "an underactive thyroid (hypothyroidism)"),
    GlossaryEntry(("hyperthyroidism",), "an overactive thyroid (hyperthyroidism)"),
    GlossaryEntry(
        ("acute kidney injury", "aki"),
        "a sudden drop in how well the kidneys work (acute kidney injury)",
    ),
    GlossaryEntry(("pulmonary edema",), "fluid in the lungs (pulmonary edema)"),
    GlossaryEntry(("osteoarthritis",), "wear-and-tear arthritis (osteoarthritis)"),
    GlossaryEntry(("anemia", "anaemia"), "anaemia (a low red blood cell count)"),
    GlossaryEntry(("deep vein thrombosis", "dvt"), "a blood clot in a deep vein (DVT)"),
    GlossaryEntry(("pulmonary embolism",), "a blood clot in the lung (pulmonary embolism)"),
    GlossaryEntry(("sepsis",), "sepsis (a severe reaction to an infection)"),
    GlossaryEntry(("major depressive disorder", "depression", "mdd"), "depression"),
    GlossaryEntry(("obesity",), "obesity (a weight that is higher than is healthy)"),
)

#: Abbreviations used in medication lines and plans, for lay audiences only.
ABBREVIATIONS: dict[str, str] = {
    "PO": "by mouth",
    "IV": "through a drip (IV)",
    "IM": "as an injection into a muscle",
    "SC": "as an injection under the skin",
    "SQ": "as an injection under the skin",
    "INH": "inhaled",
    "QD": "once a day",
    "OD": "once a day",
    "BID": "twice a day",
    "TID": "three times a day",
    "QID": "four times a day",
    "QHS": "at bedtime",
    "PRN": "as needed",
    "CXR": "chest X-ray",
    "ECG": "heart tracing (ECG)",
    "EKG": "heart tracing (ECG)",
    "SOB": "shortness of breath",
    "f/u": "follow-up",
    "abx": "antibiotics",
    "w/": "with",
}


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _strip_article(text: str) -> str:
    for article in ("a ", "an ", "the "):
        if text.startswith(article):
            return text[len(article) :]
    return text


@cache
def _index() -> dict[str, GlossaryEntry]:
    index: dict[str, GlossaryEntry] = {}
    for entry in GLOSSARY:
        for term in (*entry.terms, entry.plain):
            index.setdefault(_strip_article(normalise(term)), entry)
    return index


def entry_for(text: str) -> GlossaryEntry | None:
    """The glossary entry ``text`` names, by exact match or by containing a term.

    Short abbreviations (4 characters or fewer) only count as an exact match, so "cap" does
    not fire inside "capsule".
    """
    key = _strip_article(normalise(text))
    index = _index()
    if key in index:
        return index[key]
    padded = f" {key} "
    for term in sorted(index, key=len, reverse=True):
        if len(term) > 4 and f" {term} " in padded:
            return index[term]
    return None


def plain_phrase(text: str) -> str:
    """Lay wording for a diagnosis, with its article: "a lung infection (pneumonia)"."""
    entry = entry_for(text)
    return entry.plain if entry else text.strip()


def plain_item(text: str) -> str:
    """Lay wording for a list item: no leading article, capitalised."""
    phrase = _strip_article(plain_phrase(text))
    return phrase[:1].upper() + phrase[1:]


@cache
def _simplifier() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every term so each span is rewritten once (no re-expansion)."""
    replacements: dict[str, str] = {}
    alternatives: list[tuple[int, str]] = []
    for entry in GLOSSARY:
        for term in entry.terms:
            if normalise(term) == normalise(entry.plain):
                continue
            body = r"[\s\-]+".join(re.escape(p) for p in term.split())
            if len(term) <= 4:
                # Abbreviations only in upper case ("CAP", not "cap").
                alternatives.append((len(term), body.upper()))
                replacements[normalise(term)] = entry.plain
            else:
                alternatives.append((len(term), f"(?i:{body})"))
                replacements[normalise(term)] = entry.plain
    for abbr, plain in ABBREVIATIONS.items():
        body = re.escape(abbr)
        alternatives.append((len(abbr), body if abbr.isupper() else f"(?i:{body})"))
        replacements[abbr.lower()] = plain
    alternatives.sort(key=lambda pair: pair[0], reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(a for _, a in alternatives) + r")(?!\w)")
    return pattern, replacements


def simplify(text: str) -> str:
    """Rewrite clinical free text for lay readers: glossary terms and abbreviations."""
    pattern, replacements = _simplifier()

    def swap(match: re.Match[str]) -> str:
        found = match.group(0)
        plain = replacements.get(found.lower(), replacements.get(normalise(found), found))
        before = match.string[: match.start()].rstrip()
        if not before or before[-1] in ".!?:":
            plain = plain[:1].upper() + plain[1:]
        return plain

    return pattern.sub(swap, text)
