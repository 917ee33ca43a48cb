"""PostgreSQL: the fuzzy search really uses the trigram index on a realistic table."""

from __future__ import annotations

import pytest
from django.db import connection

from patients.models import Patient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _bulk_patients(n: int) -> None:
    first = ["Anna", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
    last = [
        "Novak",
        "Okafor",
        "Petrov",
        "Quinn",
        "Rossi",
        "Sato",
        "Tanaka",
        "Ueda",
        "Vargas",
        "Weber",
    ]
    rows = []
    for i in range(n):
        fn, ln = first[i % 10], f"{last[(i // 10) % 10]}{i}"
        mrn = f"MRN-{i + 1:06d}"
        rows.append(
            Patient(
                mrn=mrn,
                first_name=fn,
                last_name=ln,
                date_of_birth="1980-01-01",
                search_document=f"{fn} {ln} {mrn}".lower(),
            )
        )
    Patient.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        # What autovacuum does in production: move the bulk insert out of GIN's pending
        # list (VACUUM itself cannot run inside the test's transaction) and refresh stats.
        cursor.execute("SELECT gin_clean_pending_list('patients_search_trgm_idx')")
        cursor.execute("ANALYZE patients_patient")


def test_trigram_index_serves_the_search_filter() -> None:
    _bulk_patients(10_000)
    Patient.objects.create(
        mrn="MRN-999999",
        first_name="John",
        last_name="Smith",
        date_of_birth="1961-03-04",
        search_document="john smith mrn-999999",
    )
    # "smi" is two edits from every name: matched by trigrams.
    qs = Patient.objects.search("Smi")
    plan = qs.explain()
    assert "patients_search_trgm_idx" in plan, plan
    assert "Seq Scan on patients_patient" not in plan, plan
    assert [p.last_name for p in qs[:1]] == ["Smith"]


def test_name_words_are_served_by_the_name_indexes() -> None:
    """A first and a last name with a typo each: one probe of the (last_name, first_name,
    id) index per arm, neither the trigram index nor a scan of the table."""
    _bulk_patients(10_000)
    john = Patient.objects.create(
        mrn="MRN-999999",
        first_name="John",
        last_name="Smith",
        date_of_birth="1961-03-04",
        search_document="john smith mrn-999999",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_nameword")
    qs = Patient.objects.search("Jonh Smiht")
    plan = qs.explain()
    assert "patients_name_id_idx" in plan, plan
    assert "patients_search_trgm_idx" not in plan, plan
    assert "Seq Scan on patients_patient" not in plan, plan
    assert list(qs[:1]) == [john]


def test_similar_names_are_looked_up_by_the_dictionarys_trigram_index() -> None:
    """A clinic group has tens of thousands of names: the lookup of the names a word is
    similar to must not scan them all."""
    from patients.models import NameWord

    NameWord.objects.bulk_create(
        NameWord(word=f"name{n:05d}x", name=f"Name{n:05d}x") for n in range(20_000)
    )
    with connection.cursor() as cursor:
        # Earlier tests' rolled-back inserts linger in the GIN pending list until a vacuum
        # (the planner prices the index by it): merge it, as autovacuum would.
        cursor.execute("SELECT gin_clean_pending_list('patients_nameword_trgm_idx')")
        cursor.execute("ANALYZE patients_nameword")
    plan = NameWord.objects.filter(word__trigram_word_similar="alcie").explain()
    assert "patients_nameword_trgm_idx" in plan, plan
