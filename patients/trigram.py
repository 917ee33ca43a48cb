"""pg_trgm's word similarity, for SQLite: the same typo-tolerant search on both databases.

``word_similarity(query, text)`` is a port of PostgreSQL's ``pg_trgm`` (``trgm_op.c``:
``generate_trgm_only``, ``calc_word_similarity``, ``iterate_word_similarity``, non-strict
mode), so ``text %> query`` — ``word_similarity(query, text) >= 0.3`` — finds the same
patients on SQLite as on PostgreSQL:

* a string is split into words of alphanumeric characters and lower-cased; each word is
  padded with two spaces in front and one behind, and every run of three characters is
  a trigram ("jonh" -> ``"  j", " jo", "jon", "onh", "nh "``);
* the result is the greatest similarity ``shared / (|query| + |extent| - shared)``
  between the query's set of trigrams and any contiguous extent of the text's ordered
  trigrams — so "smiht" is compared with the best-matching part of "john smith 0001".

It is registered as the SQL function ``trgm_word_similarity`` on every SQLite connection
(see ``patients.apps``). PostgreSQL compresses trigrams of multi-byte characters to a
hash and computes in single precision; neither changes which rows pass the threshold.

A Python function per row would be slow on a large table, so only candidates reach it.
A similarity of at least ``t`` needs at least ``ceil(t * |query trigrams|)`` of the
query's trigrams in the text, and SQLite finds the rows that have them in an index:

* ``patients_search_trgm`` is an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+)
  that holds each patient's *padded document* — every word of the search document padded
  as above and the pieces concatenated ("  john   smith "), so every pg_trgm trigram of the
  document, padding included, is one of the index's trigrams. Triggers on
  ``patients_patient`` keep it in step with every insert, update of ``search_document``
  and delete, whatever wrote the row (the ORM, ``bulk_create``, an import, raw SQL); they
  call ``trgm_document``, registered here with ``trgm_word_similarity`` on every
  connection Django opens (migration ``patients.0006``).
* ``patients_search_key`` gives each patient a stable integer key, the FTS rowid
  (a rowid table's implicit rowid may change on ``VACUUM``; this one is a declared
  ``INTEGER PRIMARY KEY``).
* ``candidate_ids_sql`` asks the index for each query trigram, counts per row and keeps
  the rows that reach ``ceil(t * n)``: a necessary condition, so no match is lost, and on
  100,000 patients a few hundred rows instead of all of them reach Python.

Where the index is missing (a database created by an SQLite without FTS5 trigrams),
``PrefilteredWordSimilarity`` still applies the same necessary condition natively, one
``instr`` per trigram over every row — correct, and a table scan.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, FloatField, Func, Value
from django.db.models.sql.compiler import SQLCompiler

LPADDING = "  "
RPADDING = " "
SQL_FUNCTION = "trgm_word_similarity"
DOCUMENT_FUNCTION = "trgm_document"
INDEX_TABLE = "patients_search_trgm"
KEY_TABLE = "patients_search_key"


# A word: a run of alphanumeric characters (``str.isalnum``, as pg_trgm's ``ISWORDCHR``).
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def trigrams(text: str) -> list[str]:
    """The ordered trigrams of ``text`` (``generate_trgm_only``), duplicates kept."""
    result: list[str] = []
    for word in _WORD.findall(text.lower()):
        padded = f"{LPADDING}{word}{RPADDING}"
        result += [padded[i : i + 3] for i in range(len(word) + 1)]
    return result


def padded_document(text: str | None) -> str:
    """Every word of ``text`` padded as pg_trgm pads it, concatenated: indexed by the
    FTS5 ``trigram`` tokenizer, its trigrams include every trigram of ``text``."""
    if not text:
        return ""
    return "".join(f"{LPADDING}{word}{RPADDING}" for word in _words(text))


@lru_cache(maxsize=256)
def _query_trigrams(query: str) -> frozenset[str]:
    return frozenset(trigrams(query))


def word_similarity(query: str, text: str) -> float:
    """``word_similarity(query, text)`` of pg_trgm (0 when either has no words)."""
    return _word_similarity(query, text, 0.0)


@lru_cache(maxsize=256)
def _query_words(query: str) -> tuple[str, ...]:
    return tuple(_words(query))


def _word_similarity(query: str, text: str, threshold: float) -> float:
    """``word_similarity``, exact when it reaches ``threshold``; below it, possibly just
    an upper bound that already shows it does not (the search's filter needs no more)."""
    wanted = _query_trigrams(query)
    ulen1 = len(wanted)
    if not ulen1:
        return 0.0
    words = _WORD.findall(text.lower())
    query_words = _query_words(query)
    if len(query_words) == 1 and query_words[0] in words:
        # The word itself is an extent holding exactly the query's trigrams.
        return 1.0
    positional: list[str] = []
    for word in words:
        positional += _word_trigrams(word)
    # Only extents from the first to the last of the query's trigrams can score: the
    # positions outside that window change nothing (iterate_word_similarity skips them).
    first = next((i for i, t in enumerate(positional) if t in wanted), None)
    if first is None:
        return 0.0
    last = next(i for i in range(len(positional) - 1, -1, -1) if positional[i] in wanted)
    # Number the window's distinct trigrams in order of appearance.
    ids: dict[str, int] = {}
    indexes = [ids.setdefault(t, len(ids)) for t in positional[first : last + 1]]
    found = [trigram in wanted for trigram in ids]
    # No extent can share more trigrams than the whole text does.
    bound = sum(found) / ulen1
    if bound < threshold:
        return bound
    return _iterate(indexes, found, ulen1)


@lru_cache(maxsize=65_536)
def _word_trigrams(word: str) -> list[str]:
    """A word's trigrams, padded (names, "mrn" and mail domains repeat across patients)."""
    padded = f"{LPADDING}{word}{RPADDING}"
    return [padded[i : i + 3] for i in range(len(word) + 1)]


def _iterate(indexes: list[int], found: list[bool], ulen1: int) -> float:
    """``iterate_word_similarity`` of trgm_op.c, non-strict; its similarity
    ``count / (ulen1 + ulen2 - count)`` written out (this loop is the search's hot path
    on SQLite). It stops once an extent reached 1.0, which nothing can exceed."""
    lastpos = [-1] * len(found)
    lower = -1
    count = 0
    ulen2 = 0
    best = 0.0
    for i, index in enumerate(indexes):
        is_found = found[index]
        if lower >= 0 or is_found:
            if lastpos[index] < 0:
                ulen2 += 1
                if is_found:
                    count += 1
            lastpos[index] = i
        if not is_found:
            continue
        if lower == -1:
            lower = i
            ulen2 = 1
        current = count / (ulen1 + ulen2 - count)
        # Try moving the lower bound up for a greater similarity.
        tmp_count, tmp_ulen2, prev_lower = count, ulen2, lower
        for tmp_lower in range(lower, i + 1):
            candidate = tmp_count / (ulen1 + tmp_ulen2 - tmp_count)
            if candidate > current:
                current, ulen2, lower, count = candidate, tmp_ulen2, tmp_lower, tmp_count
            tmp_index = indexes[tmp_lower]
            if lastpos[tmp_index] == tmp_lower:
                tmp_ulen2 -= 1
                if found[tmp_index]:
                    tmp_count -= 1
        if current > best:
            best = current
            if best >= 1.0:
                return best
        for tmp_lower in range(prev_lower, lower):
            tmp_index = indexes[tmp_lower]
            if lastpos[tmp_index] == tmp_lower:
                lastpos[tmp_index] = -1
    return best


def register(dbapi_connection: Any) -> None:
    """Make ``trgm_word_similarity(query, text, threshold)`` callable from SQL on a
    sqlite3 connection."""
    dbapi_connection.create_function(SQL_FUNCTION, 3, _sql_word_similarity, deterministic=True)
    dbapi_connection.create_function(DOCUMENT_FUNCTION, 1, padded_document, deterministic=True)


def needed_trigrams(word: str, threshold: float) -> tuple[list[str], int]:
    """The query word's distinct trigrams, and how many of them a text must contain to
    reach ``threshold``."""
    wanted = sorted(_query_trigrams(word))
    return wanted, math.ceil(threshold * len(wanted) - 1e-9)


def candidate_ids_sql(word: str, threshold: float) -> tuple[str, list[Any]] | None:
    """SQL selecting the ids of patients whose document holds enough of ``word``'s
    trigrams to reach ``threshold`` (the index's necessary condition), or None when
    every patient qualifies."""
    wanted, needed = needed_trigrams(word, threshold)
    if not wanted or needed < 1:
        return None
    # One MATCH per trigram; a row appears once per trigram it holds. A trigram is
    # quoted as an FTS5 string (it has letters, digits and spaces only).
    matches = " UNION ALL ".join(
        f"SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH %s"  # noqa: S608  # nosec B608
        for _ in wanted
    )
    sql = (
        f"SELECT patient_id FROM {KEY_TABLE} WHERE id IN "  # noqa: S608  # nosec B608
        f"(SELECT rowid FROM ({matches}) GROUP BY rowid HAVING count(*) >= %s)"
    )
    return sql, [*(f'"{trigram}"' for trigram in wanted), needed]


def has_index(connection: BaseDatabaseWrapper) -> bool:
    """Whether this SQLite database holds the trigram index (migration 0006 builds it
    where SQLite's FTS5 has the trigram tokenizer). Asked once per connection."""
    name = connection.settings_dict["NAME"]
    cached = getattr(connection, "_patients_trgm_index", None)
    if cached is None or cached[0] != name:  # asked again when the test database swaps in
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [INDEX_TABLE]
            )
            cached = (name, cursor.fetchone() is not None)
        connection._patients_trgm_index = cached  # type: ignore[attr-defined]
    return bool(cached[1])


# One search evaluates the function for the same row in WHERE, ORDER BY and the count.
@lru_cache(maxsize=50_000)
def _sql_word_similarity(query: str | None, text: str | None, threshold: float) -> float:
    """``word_similarity``, exact for rows that reach ``threshold``; for the others any
    value below it (an upper bound, when that already decides)."""
    if query is None or text is None:
        return 0.0
    return _word_similarity(query, text, threshold)


class PrefilteredWordSimilarity(Func):
    """SQLite: ``word_similarity(word, <field>)``, 0 for rows that cannot reach
    ``threshold`` (decided natively, without calling Python; see the module docstring).

    ``word`` is lower-cased already, like the search document it is compared with.
    """

    output_field = FloatField()

    def __init__(
        self, word: str, expression: Expression | str, *, threshold: float, prefilter: bool = True
    ) -> None:
        super().__init__(expression)
        self.word = word
        self.threshold = threshold
        # False when the rows are the trigram index's candidates already.
        self.prefilter = prefilter

    def as_sql(  # type: ignore[override]
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        text_sql, compiled_params = compiler.compile(self.source_expressions[0])
        text_params = list(compiled_params)
        # One check per trigram (two trigrams may strip to the same piece), so a row with
        # n of the trigrams scores at least n.
        pieces = sorted(t.strip() for t in _query_trigrams(self.word))
        needed = math.ceil(self.threshold * len(pieces) - 1e-9)
        if not pieces or needed < 1:
            zero_sql, zero_params = compiler.compile(Value(0.0))
            return zero_sql, list(zero_params)
        if not self.prefilter:
            sql = f"{SQL_FUNCTION}(%s, {text_sql}, %s)"
            return sql, [self.word, *text_params, self.threshold]
        checks = " + ".join(f"(instr({text_sql}, %s) > 0)" for _ in pieces)
        check_params: list[Any] = []
        for piece in pieces:
            check_params.extend([*text_params, piece])
        sql = f"CASE WHEN ({checks}) >= %s THEN {SQL_FUNCTION}(%s, {text_sql}, %s) ELSE 0.0 END"
        return sql, [*check_params, needed, self.word, *text_params, self.threshold]
