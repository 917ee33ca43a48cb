"""What patient search should find, computed the slow way for tests (no SQL, no index,
no ``name_words.edits1``): the rule of ``PatientQuerySet.search``, written out."""

from __future__ import annotations

from patients.models import Patient
from patients.name_words import LETTERS, MAX_LENGTH, MIN_LENGTH
from patients.trigram import word_similarity

THRESHOLD = 0.3


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein, adjacent transpositions)."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def one_edit(word: str, name: str) -> bool:
    """At most one edit, and the letter it brings in (if any) is a-z or the word's own."""
    return distance(word, name) <= 1 and set(name) - set(word) <= set(LETTERS)


def is_name_word(word: str, names: set[str]) -> bool:
    return MIN_LENGTH <= len(word) <= MAX_LENGTH and any(one_edit(word, n) for n in names)


def matches(word: str, patient: Patient, names: set[str]) -> bool:
    """A name word matches a first or last name at most one edit away or word-similar;
    any other word must be word-similar to the whole search document."""
    if is_name_word(word, names):
        own = {patient.first_name.lower(), patient.last_name.lower()}
        return any(one_edit(word, n) or word_similarity(word, n) >= THRESHOLD for n in own)
    return word_similarity(word, patient.search_document) >= THRESHOLD


def expected(query: str) -> set[object]:
    patients = list(Patient.objects.all())
    names = {p.first_name.lower() for p in patients} | {p.last_name.lower() for p in patients}
    words = query.lower().split()
    return {p.pk for p in patients if all(matches(w, p, names) for w in words)}
