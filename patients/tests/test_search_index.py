"""SQLite's FTS5 trigram index for patient search (patients.search_index), and the
exact match of identifier words on both databases."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients import search_index
from patients.models import Patient
from patients.tests import search_oracle
from patients.tests.factories import PatientFactory
from patients.trigram import INDEX_TABLE, KEY_TABLE, padded_document, trigrams

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's own index (PostgreSQL has GIN)"
)


def _indexed() -> dict[str, str]:
    """patient id -> the document the index holds for it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k.patient_id, t.document FROM {KEY_TABLE} k "  # noqa: S608  # nosec B608
            f"JOIN {INDEX_TABLE} t ON t.rowid = k.id"
        )
        return {row[0]: row[1] for row in cursor.fetchall()}


def _stored() -> dict[str, str]:
    return {p.pk.hex: padded_document(p.search_document) for p in Patient.objects.all()}


def test_padded_document_holds_every_trigram_of_the_text() -> None:
    rng = random.Random(3)
    for _ in range(200):
        text = "".join(rng.choice("abcxyz019 -@.äö") for _ in range(rng.randint(0, 30)))
        document = padded_document(text)
        assert all(trigram in document for trigram in trigrams(text)), text
    assert padded_document("John O'Brien") == "  john   o   brien "
    assert padded_document("") == padded_document(None) == ""


@sqlite_only
@pytest.mark.django_db
def test_triggers_keep_the_index_in_step_with_every_kind_of_write() -> None:
    john = PatientFactory.create(first_name="John", last_name="Smith")
    assert _indexed() == _stored()
    # Through the model (save), a queryset update, bulk_create and raw SQL.
    john.first_name = "Jonathan"
    john.refresh_search_document()
    john.save()
    Patient.objects.filter(pk=john.pk).update(search_document="jonathan smyth mrn-1")
    Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"MRN-9{n:05d}",
                first_name="Bulk",
                last_name=f"Row{n}",
                date_of_birth="1990-01-01",
                search_document=f"bulk row{n} mrn-9{n:05d}",
            )
            for n in range(5)
        ]
    )
    assert _indexed() == _stored()
    assert len(_indexed()) == 6
    Patient.objects.filter(last_name__startswith="Row").delete()
    john.delete()
    assert _indexed() == {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {KEY_TABLE}")  # noqa: S608  # nosec B608
        assert cursor.fetchone()[0] == 0


@sqlite_only
@pytest.mark.django_db
def test_search_asks_the_index_and_finds_new_names_at_once() -> None:
    # Prefixes, two edits or more from any name: matched by trigrams, not by the names.
    patient = PatientFactory.create(first_name="Hannah", last_name="Mitchell")
    with CaptureQueriesContext(connection) as queries:
        found = list(Patient.objects.search("hann mitch"))
    assert found == [patient]
    assert f"{INDEX_TABLE} MATCH" in queries.captured_queries[-1]["sql"]
    patient.last_name = "Garcia"
    patient.refresh_search_document()
    patient.save()
    assert list(Patient.objects.search("mitch")) == []
    assert list(Patient.objects.search("garc")) == [patient]


@sqlite_only
@pytest.mark.django_db
def test_index_and_scan_find_the_same_patients(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index is a necessary condition only: what it finds, ranked, is exactly what
    the full scan (the path for an SQLite without FTS5 trigrams) finds."""
    rng = random.Random(11)
    firsts = ["John", "Jon", "Johan", "Ann", "Anna", "Hannah", "Zoë", "O'Neil"]
    lasts = ["Smith", "Smithers", "Smyth", "Garcia", "Schmidt", "Mitchell", "Sim", "Ng"]
    for _ in range(80):
        PatientFactory.create(first_name=rng.choice(firsts), last_name=rng.choice(lasts))
    queries = ["jonh smiht", "smith", "ana", "garcai", "mith", "h", "zoe", "ng", "o'neil", "qq"]

    def ranked(query: str) -> list[tuple[object, float]]:
        return [(p.pk, p.search_rank) for p in Patient.objects.search(query)]  # type: ignore[attr-defined]

    with_index = {query: ranked(query) for query in queries}
    monkeypatch.setattr("patients.trigram.has_index", lambda connection: False)
    for query in queries:
        scanned = ranked(query)
        assert with_index[query] == scanned, query
        assert {pk for pk, _ in scanned} == search_oracle.expected(query), query


@sqlite_only
@pytest.mark.django_db
def test_a_migration_that_rebuilt_the_table_cannot_leave_the_index_behind() -> None:
    """SQLite alters a table by rebuilding it, which drops its triggers; the post-migrate
    repair puts them back and re-indexes what was written meanwhile."""
    before = PatientFactory.create(first_name="Before", last_name="Rebuild")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER patients_search_insert")
    during = PatientFactory.create(first_name="During", last_name="Rebuild")
    assert during.pk.hex not in _indexed()

    from django.core.management import call_command

    call_command("migrate", "patients", verbosity=0)  # nothing to apply; post_migrate runs
    assert _indexed() == _stored()
    assert set(Patient.objects.search("rebuild")) == {before, during}
    assert search_index.ensure(connection) is False  # whole again: nothing to do


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_migration_indexes_stored_patients_and_reverses() -> None:
    """Back to before 0006 (no index: the scan), then forward through 0007, which rebuilds
    the patients table (SQLite's way to alter it) and so drops the triggers: the
    post-migrate repair leaves the index whole."""
    from django.core.management import call_command

    PatientFactory.create(first_name="Stored", last_name="Earlier")
    call_command("migrate", "patients", "0005", verbosity=0)
    try:
        tables = {t.name for t in connection.introspection.get_table_list(connection.cursor())}
        assert INDEX_TABLE not in tables
        assert list(Patient.objects.search("erlier")) != []  # the scan, without the index
    finally:
        call_command("migrate", verbosity=0)
    assert search_index.ensure(connection) is False  # whole already
    assert _indexed() == _stored()
    later = PatientFactory.create(first_name="Later", last_name="Earlier")
    assert later.pk.hex in _indexed()  # the triggers are back


@pytest.mark.django_db
def test_a_whole_mrn_or_email_is_matched_exactly() -> None:
    """Fuzzily, every MRN resembles every other; an identifier finds its one patient."""
    patients = [PatientFactory.create(email=f"person{n}@example.org") for n in range(12)]
    target = patients[5]
    assert list(Patient.objects.search(target.mrn)) == [target]
    assert list(Patient.objects.search(target.mrn.lower())) == [target]
    assert list(Patient.objects.search("PERSON5@example.org")) == [target]
    words = f"{target.first_name} {target.mrn}"
    assert list(Patient.objects.search(words)) == [target]
    assert list(Patient.objects.search("mrn-999999")) == []
    # Not whole identifiers: still fuzzy.
    assert target in Patient.objects.search("person5@example")
