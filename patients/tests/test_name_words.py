"""Spelling-corrected search (patients.name_words): the dictionary of names, its upkeep
by triggers on both databases, and two-typo queries that trigrams alone cannot answer."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from patients import name_words
from patients.models import NameWord, Patient
from patients.tests.factories import PatientFactory
from patients.tests.search_oracle import distance
from patients.trigram import word_similarity

URL = "/api/v1/patients/"


def _dictionary() -> set[tuple[str, str]]:
    return set(NameWord.objects.values_list("word", "name"))


def _search(client: APIClient, text: str) -> list[tuple[str, str]]:
    response = client.get(URL, {"search": text})
    assert response.status_code == 200, response.json()
    return [(p["first_name"], p["last_name"]) for p in response.json()["results"]]


def test_edits1_is_exactly_the_strings_one_edit_away() -> None:
    rng = random.Random(5)
    for _ in range(40):
        word = "".join(rng.choice("abcrstu") for _ in range(rng.randint(1, 7)))
        variants = name_words.edits1(word)
        assert all(distance(word, v) <= 1 for v in variants), word
        # Every string over a small alphabet one edit away is among them.
        near = {
            word[:i] + c + word[i + j :]
            for i in range(len(word) + 1)
            for j in (0, 1)
            for c in ["", *"abcrstu"]
        }
        assert {v for v in near if distance(word, v) <= 1} <= variants, word
    assert {"ruth", "rtu", "rtuhs", "rotuh"} <= name_words.edits1("rtuh")
    assert "zoe" in name_words.edits1("zoë")
    assert "zoë" not in name_words.edits1("zoe")  # a letter outside a-z and the word's


@pytest.mark.django_db
def test_triggers_keep_the_dictionary_complete_whatever_writes() -> None:
    john = PatientFactory.create(first_name="John", last_name="Smith")
    Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"MRN-9{n:05d}",
                first_name="Zoë",
                last_name=f"Row{n}",
                date_of_birth="1990-01-01",
                search_document=f"zoë row{n} mrn-9{n:05d}",
            )
            for n in range(3)
        ]
    )
    Patient.objects.filter(pk=john.pk).update(last_name="McAllister")
    assert _dictionary() == {
        ("john", "John"),
        ("smith", "Smith"),
        ("mcallister", "McAllister"),
        ("zoë", "Zoë"),
        *{(f"row{n}", f"Row{n}") for n in range(3)},
    }
    # Names stay when nobody has them any more; the rebuild drops them.
    Patient.objects.filter(first_name="Zoë").delete()
    assert ("zoë", "Zoë") in _dictionary()
    out = StringIO()
    call_command("rebuild_name_words", stdout=out)
    assert _dictionary() == {("john", "John"), ("mcallister", "McAllister")}
    assert "2 names" in out.getvalue()


@pytest.mark.django_db
def test_two_typos_find_the_person_first(viewer_client: APIClient) -> None:
    """One adjacent transposition in each name (bench/run.py's typo), among namesakes
    and near-names; "rtuh" shares a single trigram with "ruth", below the 0.3 threshold,
    so only the dictionary can find her."""
    for first, last in [
        ("Alison", "Riley"),
        ("Allison", "Riley"),
        ("Alice", "Riley"),
        ("Alison", "Bailey"),
        ("Ruth", "Miller"),
        ("Ruth", "Mills"),
        ("Rita", "Miller"),
        ("Bo", "Ng"),
        ("Bob", "Ng"),
    ]:
        PatientFactory.create(first_name=first, last_name=last)
    assert word_similarity("rtuh", "ruth miller") < 0.3
    assert _search(viewer_client, "Rliey Alsion")[0] == ("Alison", "Riley")
    assert _search(viewer_client, "alsion rliey")[0] == ("Alison", "Riley")
    assert _search(viewer_client, "Rtuh Milelr")[0] == ("Ruth", "Miller")
    # A name under four letters: the typo doubles a letter ("boo" is one edit from Bo
    # and from Bob: equal ranks, in id order).
    assert set(_search(viewer_client, "boo ngg")) == {("Bo", "Ng"), ("Bob", "Ng")}
    assert ("Rita", "Miller") not in _search(viewer_client, "Rtuh Milelr")[:1]


@pytest.mark.django_db
def test_ranking_exact_then_corrected_then_similar_then_id() -> None:
    smiths = sorted(
        (PatientFactory.create(first_name="Ann", last_name="Smith") for _ in range(3)),
        key=lambda p: p.pk,
    )
    smit = PatientFactory.create(first_name="Ann", last_name="Smit")
    smithers = PatientFactory.create(first_name="Ann", last_name="Smithers")
    PatientFactory.create(first_name="Ann", last_name="Garcia")
    found = list(Patient.objects.search("smith"))
    assert found == [*smiths, smit, smithers]
    ranks = [p.search_rank for p in found]  # type: ignore[attr-defined]
    assert ranks[:4] == [3.0, 3.0, 3.0, 2.0]
    assert 0.3 <= ranks[4] < 1.0
    # The same order again (no tie left to the database).
    assert list(Patient.objects.search("smith")) == found


@pytest.mark.django_db
def test_a_word_far_from_every_name_is_still_matched_by_trigrams() -> None:
    smith = PatientFactory.create(first_name="John", last_name="Smith")
    smithers = PatientFactory.create(first_name="Jane", last_name="Smithers")
    PatientFactory.create(first_name="Maria", last_name="Garcia")
    assert not name_words.corrections(connection, ["smi"])["smi"]
    assert set(Patient.objects.search("smi")) == {smith, smithers}
    # Too short to correct: "jo" would be one edit from every two-letter name.
    assert not name_words.corrections(connection, ["jo"])["jo"]


@pytest.mark.django_db
def test_search_without_the_dictionary_falls_back_to_trigrams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    john = PatientFactory.create(first_name="John", last_name="Smith")
    monkeypatch.setattr(name_words, "has_dictionary", lambda connection: False)
    assert list(Patient.objects.search("jonh smiht")) == [john]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables to alter them")
@pytest.mark.django_db
def test_a_migration_that_rebuilt_the_table_cannot_leave_the_dictionary_behind() -> None:
    PatientFactory.create(first_name="Before", last_name="Rebuild")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER patients_name_words_insert")
    PatientFactory.create(first_name="During", last_name="Rebuilt")
    assert ("during", "During") not in _dictionary()
    call_command("migrate", "patients", verbosity=0)  # nothing to apply; post_migrate runs
    assert {("during", "During"), ("rebuilt", "Rebuilt")} <= _dictionary()
    assert name_words.ensure(connection) is False


@pytest.mark.django_db(transaction=True)
def test_migration_0009_reverses_and_fills_the_dictionary_from_stored_patients() -> None:
    """Back to 0008 (no dictionary: search falls back to trigrams), then forward: the
    migration fills the dictionary from the patients already stored and the triggers
    are back, on either database."""
    stored = PatientFactory.create(first_name="Stored", last_name="Earlier")
    call_command("migrate", "patients", "0008", verbosity=0)
    try:
        with connection.cursor() as cursor:
            assert name_words.TABLE not in connection.introspection.table_names(cursor)
        assert list(Patient.objects.search("stored earlier")) == [stored]
    finally:
        call_command("migrate", verbosity=0)
    assert _dictionary() == {("stored", "Stored"), ("earlier", "Earlier")}
    PatientFactory.create(first_name="Later", last_name="Earlier")
    assert ("later", "Later") in _dictionary()
    assert list(Patient.objects.search("sotred")) == [stored]
