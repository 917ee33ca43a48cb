"""patients.trigram: pg_trgm's word similarity, checked against PostgreSQL itself."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from patients.models import Patient
from patients.tests import search_oracle
from patients.tests.factories import PatientFactory
from patients.trigram import _sql_word_similarity, trigrams, word_similarity

# Pairs chosen to exercise the extent search: typos, transpositions, repeated trigrams,
# several words, punctuation, digits, non-ASCII, no match at all, empty strings.
PAIRS = [
    ("word", "two words"),
    ("jonh", "john smith mrn-000001 jsmith@example.org"),
    ("smiht", "john smith mrn-000001 jsmith@example.org"),
    ("garcai", "maria garcia mrn-000003 mg@example.org"),
    ("smith", "jane smithers mrn-000002"),
    ("aaa", "aaaa aaa a aa"),
    ("abab", "bababab ab abba"),
    ("o'brien", "siobhan obrien"),
    ("müller", "hans muller hans müller"),
    ("000001", "john smith mrn-000001"),
    ("x", "xavier x"),
    ("zzz", "john smith"),
    ("", "john smith"),
    ("john", ""),
]


def test_word_similarity_matches_the_documented_example() -> None:
    # From the pg_trgm documentation: word_similarity('word', 'two words') = 0.8.
    assert word_similarity("word", "two words") == pytest.approx(0.8)
    assert trigrams("Jonh!") == ["  j", " jo", "jon", "onh", "nh "]


def test_typos_pass_the_threshold_and_strangers_do_not() -> None:
    doc = "john smith mrn-000001 jsmith@example.org"
    assert word_similarity("jonh", doc) >= 0.3
    assert word_similarity("smiht", doc) >= 0.3
    assert word_similarity("garcai", doc) < 0.3


@pytest.mark.postgres
@pytest.mark.django_db
def test_same_values_as_pg_trgm() -> None:
    rng = random.Random(12)
    alphabet = "abcdehijmnorst -"
    pairs = list(PAIRS)
    for _ in range(300):
        query = "".join(rng.choice(alphabet[:-2]) for _ in range(rng.randint(1, 7)))
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        pairs.append((query, text))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word_similarity(q, t) FROM unnest(%s::text[], %s::text[]) AS p(q, t)",
            [[q for q, _ in pairs], [t for _, t in pairs]],
        )
        expected = [row[0] for row in cursor.fetchall()]
    for (query, text), value in zip(pairs, expected, strict=True):
        assert word_similarity(query, text) == pytest.approx(value, abs=1e-6), (query, text)


@pytest.mark.django_db
def test_search_finds_the_same_patients_as_the_function_says() -> None:
    """On either database: the rows the search returns are exactly those the rule says
    (``search_oracle``: every word reaches 0.3 by the Python function against the
    document, or, for a word one edit from a known name, against the names, or is one
    edit from one; the SQLite pre-filter loses none)."""
    rng = random.Random(7)
    firsts = ["John", "Jane", "Maria", "Jon", "Johan", "Ann", "Anna", "Hannah"]
    lasts = ["Smith", "Smithers", "Smyth", "Garcia", "Schmidt", "Mitchell", "Sim"]
    for _ in range(60):
        PatientFactory.create(first_name=rng.choice(firsts), last_name=rng.choice(lasts))
    for query in ["jonh smiht", "smith", "ana", "garcai", "mith", "h", "schmit jhon", "zz"]:
        found = list(Patient.objects.search(query))
        assert {p.pk for p in found} == search_oracle.expected(query), query
        ranks = [p.search_rank for p in found]  # type: ignore[attr-defined]
        assert ranks == sorted(ranks, reverse=True)


def _reference_word_similarity(query: str, text: str) -> float:
    """trgm_op.c's iterate_word_similarity transcribed line by line (no window, no early
    exit, no shortcut): what the tuned ``word_similarity`` must equal exactly."""
    wanted = set(trigrams(query))
    positional = trigrams(text)
    if not wanted or not positional:
        return 0.0
    ids: dict[str, int] = {}
    indexes = [ids.setdefault(t, len(ids)) for t in positional]
    found = [t in wanted for t in ids]
    ulen1 = len(wanted)
    lastpos = [-1] * len(found)
    lower, count, ulen2, best = -1, 0, 0, 0.0
    for i, index in enumerate(indexes):
        if lower >= 0 or found[index]:
            if lastpos[index] < 0:
                ulen2 += 1
                count += found[index]
            lastpos[index] = i
        if not found[index]:
            continue
        if lower == -1:
            lower, ulen2 = i, 1
        current = count / (ulen1 + ulen2 - count)
        tmp_count, tmp_ulen2, prev_lower = count, ulen2, lower
        for tmp_lower in range(lower, i + 1):
            candidate = tmp_count / (ulen1 + tmp_ulen2 - tmp_count)
            if candidate > current:
                current, ulen2, lower, count = candidate, tmp_ulen2, tmp_lower, tmp_count
            if lastpos[indexes[tmp_lower]] == tmp_lower:
                tmp_ulen2 -= 1
                tmp_count -= found[indexes[tmp_lower]]
        best = max(best, current)
        for tmp_lower in range(prev_lower, lower):
            if lastpos[indexes[tmp_lower]] == tmp_lower:
                lastpos[indexes[tmp_lower]] = -1
    return best


def test_tuned_function_equals_the_plain_transcription() -> None:
    """The window, the whole-word shortcut and the early exit at 1.0 change no value."""
    rng = random.Random(5)
    alphabet = "abcdehijmnorst -@.0ü"
    for _ in range(4000):
        query = "".join(rng.choice(alphabet[:-5]) for _ in range(rng.randint(1, 7)))
        if rng.random() < 0.2:
            query = f"{query} {query[::-1]}"
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.3:  # the query's word in the text: the shortcut and the exit
            text = f"{text} {query} {text[::-1]}"
        expected = _reference_word_similarity(query, text)
        assert word_similarity(query, text) == expected, (query, text)
        filtered = _sql_word_similarity.__wrapped__(query, text, 0.3)
        assert (filtered >= 0.3) == (expected >= 0.3), (query, text)
        if expected >= 0.3:
            assert filtered == expected, (query, text)
