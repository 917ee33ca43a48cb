"""Spelling correction for patient search: the dictionary of name words.

Trigrams cannot see a transposition near the start of a short name: ``rtuh`` shares one
padded trigram with ``ruth`` and stays below pg_trgm's 0.3 (issue 14: at 1,000,000
patients only 12-16 of 60 two-typo queries found the person). Clinics have millions of
patients but only thousands of distinct first and last names, so the search corrects a
query word against the *names*, not the rows:

* ``patients_nameword`` holds every first and last name once, as typed (``name``) and
  lower-cased (``word``, the lookup key). Triggers on ``patients_patient`` add the names
  of every inserted row and of every update of ``first_name``/``last_name``, whatever
  wrote it (the services, ``bulk_create``, the importer, raw SQL); on PostgreSQL the
  insert trigger runs once per statement over its new rows. Names are never removed
  by the trigger (that would need a scan of the patients per delete): a stale word only
  costs an index probe that finds nobody, and ``manage.py rebuild_name_words`` (also run
  by migration 0009) rebuilds the table from the patients.
* ``corrections`` takes the query words and asks the table once for every string at
  Damerau-Levenshtein distance ≤ 1 of each (a deletion, an adjacent transposition, a
  substitution or an insertion of a letter; Norvig's ``edits1``, about 54 per letter):
  a unique-index lookup over a few thousand rows, not a scan of the patients. Each word
  gets its exact names and its corrected names; ``PatientQuerySet.search`` adds the
  names the word is word-similar to and matches patients whose first or last name is
  one of them through the name indexes.

Only words of ``MIN_LENGTH`` to ``MAX_LENGTH`` letters are corrected: a one- or
two-letter word is one edit away from every short name, and a long word is no name.
A multi-word name ("Mary Ann", "De la Cruz") is one dictionary entry, which a query word
(never containing a space) can only be similar to, not equal or one edit from; trigram
search still finds it by its parts.

SQLite lower-cases ASCII letters only, so the trigger there calls ``name_word`` (Python's
``str.lower``, the same as the query side), registered on every connection Django opens
(``patients.apps``); PostgreSQL's ``lower()`` follows the database's locale. SQLite's
schema editor drops a table's triggers when it rebuilds the table, so ``ensure`` runs
after every ``migrate`` there, as ``patients.search_index`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "patients_nameword"
SQL_FUNCTION = "name_word"
MIN_LENGTH = 3
MAX_LENGTH = 30
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIGRATION = ("patients", "0009_name_words")
_CACHE = "_patients_name_words"

SQLITE_TRIGGERS = ("patients_name_words_insert", "patients_name_words_update")

# Literal SQL, no parameters: every name in it is this module's.
PG_CREATE = [
    # Inserts: once per statement over its new rows (a transition table), so a bulk
    # insert of a million patients pays one INSERT ... SELECT DISTINCT, not two index
    # probes per row. Updates: per row, and only when a name changed (a transition table
    # cannot be combined with UPDATE OF's column list, and most updates of a patient —
    # the latest outcome — change no name).
    f"""CREATE OR REPLACE FUNCTION patients_name_words_added() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (word, name)
        SELECT DISTINCT lower(v.n), v.n
        FROM new_rows CROSS JOIN LATERAL (VALUES (new_rows.first_name), (new_rows.last_name))
            AS v (n)
        WHERE v.n <> ''
        ON CONFLICT (word, name) DO NOTHING;
        RETURN NULL;
    END $$""",  # noqa: S608  # nosec B608
    f"""CREATE OR REPLACE FUNCTION patients_name_words() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (word, name)
        SELECT lower(n), n FROM (VALUES (NEW.first_name), (NEW.last_name)) AS v (n)
        WHERE n <> ''
        ON CONFLICT (word, name) DO NOTHING;
        RETURN NULL;
    END $$""",  # noqa: S608  # nosec B608
    "DROP TRIGGER IF EXISTS patients_name_words_insert ON patients_patient",
    "DROP TRIGGER IF EXISTS patients_name_words_update ON patients_patient",
    """CREATE TRIGGER patients_name_words_insert AFTER INSERT ON patients_patient
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION patients_name_words_added()""",
    """CREATE TRIGGER patients_name_words_update AFTER UPDATE OF first_name, last_name
    ON patients_patient FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
          OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION patients_name_words()""",
    # The names a word is similar to (``%>``) are looked up by trigrams: a scan of 50,000
    # names takes ~45 ms, the index ~1 ms. PostgreSQL only, like the patients' (0002).
    f"CREATE INDEX IF NOT EXISTS patients_nameword_trgm_idx ON {TABLE} "
    "USING gin (word gin_trgm_ops)",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS patients_name_words_insert ON patients_patient",
    "DROP TRIGGER IF EXISTS patients_name_words_update ON patients_patient",
    "DROP FUNCTION IF EXISTS patients_name_words()",
    "DROP FUNCTION IF EXISTS patients_name_words_added()",
    "DROP INDEX IF EXISTS patients_nameword_trgm_idx",
]
_SQLITE_BODY = (
    f"INSERT OR IGNORE INTO {TABLE} (word, name) "  # noqa: S608  # nosec B608
    f"SELECT {SQL_FUNCTION}(n), n FROM (SELECT new.first_name AS n UNION ALL "
    "SELECT new.last_name) WHERE n <> '';"
)
SQLITE_CREATE = [
    "DROP TRIGGER IF EXISTS patients_name_words_insert",
    "DROP TRIGGER IF EXISTS patients_name_words_update",
    f"CREATE TRIGGER patients_name_words_insert AFTER INSERT ON patients_patient "
    f"BEGIN {_SQLITE_BODY} END",
    f"CREATE TRIGGER patients_name_words_update AFTER UPDATE OF first_name, last_name "
    f"ON patients_patient WHEN old.first_name IS NOT new.first_name "
    f"OR old.last_name IS NOT new.last_name BEGIN {_SQLITE_BODY} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS patients_name_words_insert",
    "DROP TRIGGER IF EXISTS patients_name_words_update",
]


def name_word(name: str | None) -> str | None:
    """The lookup key of a name (SQLite's ``name_word``): Python's lower-casing."""
    return None if name is None else name.lower()


def register(dbapi_connection: object) -> None:
    """Make ``name_word(name)`` callable from SQL on a sqlite3 connection."""
    dbapi_connection.create_function(  # type: ignore[attr-defined]
        SQL_FUNCTION, 1, name_word, deterministic=True
    )


def edits1(word: str) -> set[str]:
    """Every string at Damerau-Levenshtein (optimal string alignment) distance 0 or 1 of
    ``word`` whose new letter, if any, is one of a-z or of the word's own: deletions,
    adjacent transpositions, substitutions and insertions. So "zoë" corrects to Zoe, but
    "zoe" not to Zoë (trigrams still find it: they share "  z", " zo")."""
    letters = set(LETTERS) | set(word)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | transposes | replaces | inserts | {word}


@dataclass
class Correction:
    """The names a query word stands for: ``exact`` (the word is the name, any case),
    ``corrected`` (one edit away) and ``similar`` (word-similar by trigrams, like the
    search document; filled only for a word that has exact or corrected names)."""

    exact: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether the word is a name word: the name, or one edit from one."""
        return bool(self.exact or self.corrected)

    @property
    def names(self) -> list[str]:
        return [*self.exact, *self.corrected, *self.similar]


def correctable(word: str) -> bool:
    return MIN_LENGTH <= len(word) <= MAX_LENGTH


def corrections(connection: BaseDatabaseWrapper, words: list[str]) -> dict[str, Correction]:
    """Each lower-cased query word's exact and one-edit names, in one indexed query
    (``similar`` is left to the caller, ``PatientQuerySet.search``). Names are sorted, so
    the SQL built from them (and its plan) is deterministic."""
    result = {word: Correction() for word in words}
    wanted: dict[str, set[str]] = {}
    for word in words:
        if correctable(word):
            for variant in edits1(word):
                wanted.setdefault(variant, set()).add(word)
    if not wanted or not has_dictionary(connection):
        return result
    variants = sorted(wanted)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT word, name FROM {TABLE} WHERE word = ANY(%s)",  # noqa: S608  # nosec B608
                [variants],
            )
        else:
            cursor.execute(
                f"SELECT word, name FROM {TABLE} "  # noqa: S608  # nosec B608
                "WHERE word IN (SELECT value FROM json_each(%s))",
                [json.dumps(variants)],
            )
        rows = sorted(cursor.fetchall())
    for key, name in rows:
        for word in wanted.get(key, ()):
            target = result[word].exact if key == word else result[word].corrected
            target.append(name)
    return result


def has_dictionary(connection: BaseDatabaseWrapper) -> bool:
    """Whether the dictionary table exists (not before migration 0009, e.g. while a
    migration test runs the search at an older state). Asked once per connection."""
    name = connection.settings_dict["NAME"]
    # getattr/setattr, not __dict__: ``django.db.connection`` is a proxy that forwards.
    cached = getattr(connection, _CACHE, None)
    if cached is None or cached[0] != name:  # asked again when the test database swaps in
        with connection.cursor() as cursor:
            cached = (name, TABLE in connection.introspection.table_names(cursor))
        setattr(connection, _CACHE, cached)
    return bool(cached[1])


def _missing_sqlite_triggers(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
            list(SQLITE_TRIGGERS),
        )
        return cursor.fetchone()[0] != len(SQLITE_TRIGGERS)


def rebuild(connection: BaseDatabaseWrapper) -> int:
    """Refill the dictionary from the stored patients (drops the names nobody has any
    more). How many names it holds afterwards."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608  # nosec B608
        key = "lower" if connection.vendor == "postgresql" else SQL_FUNCTION
        cursor.execute(
            f"INSERT INTO {TABLE} (word, name) "  # noqa: S608  # nosec B608
            f"SELECT DISTINCT {key}(n), n FROM ("
            "SELECT first_name AS n FROM patients_patient UNION "
            "SELECT last_name FROM patients_patient) names WHERE n <> ''"
        )
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608  # nosec B608
        return int(cursor.fetchone()[0])


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Create the triggers; on SQLite only if one is missing (then the dictionary is
    rebuilt too, since writes went unrecorded meanwhile). Whether anything was built."""
    setattr(connection, _CACHE, None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement in PG_CREATE:
                cursor.execute(statement)
        return True
    if connection.vendor != "sqlite" or not _missing_sqlite_triggers(connection):
        return False
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in SQLITE_CREATE:
            cursor.execute(statement)
    rebuild(connection)
    return True


def drop(connection: BaseDatabaseWrapper) -> None:
    setattr(connection, _CACHE, None)
    statements = {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
