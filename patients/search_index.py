"""SQLite's trigram index for patient search: what it is made of, and keeping it whole.

The index (see ``patients.trigram``) is an FTS5 table, a key table and three triggers on
``patients_patient``. SQLite's schema editor rebuilds a table to alter it (create a copy,
drop the original, rename) and the original's triggers go with it, so ``ensure`` runs
after every ``migrate`` (``patients.apps``), not only in migration 0006: whatever is
missing is created again and the index is rebuilt from the patients, so a later
migration of the patients table can never leave search blind to new rows.
"""

from __future__ import annotations

import sqlite3

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from patients.trigram import DOCUMENT_FUNCTION, INDEX_TABLE, KEY_TABLE

TRIGGERS = ("patients_search_insert", "patients_search_update", "patients_search_delete")
MIGRATION = ("patients", "0006_sqlite_trigram_index")

# Literal SQL, no parameters: the names are this module's (patients.trigram holds the same).
CREATE = [
    "CREATE TABLE patients_search_key"
    " (id INTEGER PRIMARY KEY, patient_id char(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE patients_search_trgm"
    " USING fts5(document, tokenize='trigram', detail='none')",
    """CREATE TRIGGER patients_search_insert AFTER INSERT ON patients_patient BEGIN
        INSERT INTO patients_search_key (patient_id) VALUES (new.id);
        INSERT INTO patients_search_trgm (rowid, document)
            VALUES (last_insert_rowid(), trgm_document(new.search_document));
    END""",
    """CREATE TRIGGER patients_search_update AFTER UPDATE OF search_document ON patients_patient
        WHEN old.search_document IS NOT new.search_document BEGIN
        UPDATE patients_search_trgm SET document = trgm_document(new.search_document)
            WHERE rowid = (SELECT id FROM patients_search_key WHERE patient_id = new.id);
    END""",
    """CREATE TRIGGER patients_search_delete AFTER DELETE ON patients_patient BEGIN
        DELETE FROM patients_search_trgm
            WHERE rowid = (SELECT id FROM patients_search_key WHERE patient_id = old.id);
        DELETE FROM patients_search_key WHERE patient_id = old.id;
    END""",
    "INSERT INTO patients_search_key (patient_id) SELECT id FROM patients_patient ORDER BY id",
    """INSERT INTO patients_search_trgm (rowid, document)
        SELECT k.id, trgm_document(p.search_document)
        FROM patients_search_key k JOIN patients_patient p ON p.id = k.patient_id""",
]
DROP = [
    "DROP TRIGGER IF EXISTS patients_search_insert",
    "DROP TRIGGER IF EXISTS patients_search_update",
    "DROP TRIGGER IF EXISTS patients_search_delete",
    "DROP TABLE IF EXISTS patients_search_trgm",
    "DROP TABLE IF EXISTS patients_search_key",
]
assert all(name in CREATE[0] + CREATE[1] for name in (INDEX_TABLE, KEY_TABLE))
assert all(DOCUMENT_FUNCTION in statement for statement in CREATE[2:4])


def supported(connection: BaseDatabaseWrapper) -> bool:
    """SQLite with FTS5's trigram tokenizer (3.34+)."""
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 34)


def _missing(connection: BaseDatabaseWrapper) -> bool:
    wanted = {INDEX_TABLE, KEY_TABLE, *TRIGGERS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN (%s, %s, %s, %s, %s)", list(wanted)
        )
        present = {row[0] for row in cursor.fetchall()}
    return present != wanted


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Build the index where SQLite supports it and any part of it is missing (then from
    scratch, from the stored patients). Whether anything was built."""
    if not supported(connection) or not _missing(connection):
        return False
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in [*DROP, *CREATE]:
            cursor.execute(statement)
    connection.__dict__.pop("_patients_trgm_index", None)
    return True


def drop(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in DROP:
                cursor.execute(statement)
    connection.__dict__.pop("_patients_trgm_index", None)
