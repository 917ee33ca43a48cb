"""patients.trigram: pg_trgm's word similarity, checked against PostgreSQL itself."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from patients.models import Patient
from patients.tests.factories import PatientFactory
from patients.trigram import trigrams, word_similarity

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
    """On either database: the rows the search returns are exactly those whose every
    word reaches 0.3 by the Python function (the SQLite pre-filter loses none)."""
    rng = random.Random(7)
    firsts = ["John", "Jane", "Maria", "Jon", "Johan", "Ann", "Anna", "Hannah"]
    lasts = ["Smith", "Smithers", "Smyth", "Garcia", "Schmidt", "Mitchell", "Sim"]
    for _ in range(60):
        PatientFactory.create(first_name=rng.choice(firsts), last_name=rng.choice(lasts))
    for query in ["jonh smiht", "smith", "ana", "garcai", "mith", "h", "schmit jhon", "zz"]:
        words = query.split()
        expected = {
            p.pk
            for p in Patient.objects.all()
            if all(word_similarity(w, p.search_document) >= 0.3 for w in words)
        }
        found = list(Patient.objects.search(query))
        assert {p.pk for p in found} == expected, query
        ranks = [p.search_rank for p in found]  # type: ignore[attr-defined]
        assert ranks == sorted(ranks, reverse=True)
