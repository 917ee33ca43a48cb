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

A Python function per row would be slow on a large table, so ``PrefilteredWordSimilarity``
first applies a necessary condition SQLite evaluates natively: a similarity of at least
``t`` needs at least ``ceil(t * |query trigrams|)`` of the query's trigrams in the text,
and each trigram (its padding spaces stripped) is then a substring of the text. Only rows
that pass reach the Python function.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, FloatField, Func, Value
from django.db.models.sql.compiler import SQLCompiler

LPADDING = "  "
RPADDING = " "
SQL_FUNCTION = "trgm_word_similarity"


def _words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for char in text.lower():
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def trigrams(text: str) -> list[str]:
    """The ordered trigrams of ``text`` (``generate_trgm_only``), duplicates kept."""
    result: list[str] = []
    for word in _words(text):
        padded = f"{LPADDING}{word}{RPADDING}"
        result.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return result


@lru_cache(maxsize=256)
def _query_trigrams(query: str) -> frozenset[str]:
    return frozenset(trigrams(query))


def word_similarity(query: str, text: str) -> float:
    """``word_similarity(query, text)`` of pg_trgm (0 when either has no words)."""
    wanted = _query_trigrams(query)
    ulen1 = len(wanted)
    positional = trigrams(text)
    if not ulen1 or not positional:
        return 0.0
    # Number the distinct trigrams; found[j]: trigram j is one of the query's.
    ids: dict[str, int] = {}
    indexes = [ids.setdefault(t, len(ids)) for t in positional]
    found = [False] * len(ids)
    for trigram, index in ids.items():
        if trigram in wanted:
            found[index] = True
    return _iterate(indexes, found, ulen1)


def _similarity(count: int, len1: int, len2: int) -> float:
    return count / (len1 + len2 - count)


def _iterate(indexes: list[int], found: list[bool], ulen1: int) -> float:
    """``iterate_word_similarity`` of trgm_op.c, non-strict, without the early exit."""
    lastpos = [-1] * len(found)
    lower = -1
    count = 0
    ulen2 = 0
    best = 0.0
    for i, index in enumerate(indexes):
        if lower >= 0 or found[index]:
            if lastpos[index] < 0:
                ulen2 += 1
                if found[index]:
                    count += 1
            lastpos[index] = i
        if not found[index]:
            continue
        upper = i
        if lower == -1:
            lower = i
            ulen2 = 1
        current = _similarity(count, ulen1, ulen2)
        # Try moving the lower bound up for a greater similarity.
        tmp_count, tmp_ulen2, prev_lower = count, ulen2, lower
        for tmp_lower in range(lower, upper + 1):
            candidate = _similarity(tmp_count, ulen1, tmp_ulen2)
            if candidate > current:
                current, ulen2, lower, count = candidate, tmp_ulen2, tmp_lower, tmp_count
            tmp_index = indexes[tmp_lower]
            if lastpos[tmp_index] == tmp_lower:
                tmp_ulen2 -= 1
                if found[tmp_index]:
                    tmp_count -= 1
        best = max(best, current)
        for tmp_lower in range(prev_lower, lower):
            tmp_index = indexes[tmp_lower]
            if lastpos[tmp_index] == tmp_lower:
                lastpos[tmp_index] = -1
    return best


def register(dbapi_connection: Any) -> None:
    """Make ``trgm_word_similarity(query, text, threshold)`` callable from SQL on a
    sqlite3 connection."""
    dbapi_connection.create_function(SQL_FUNCTION, 3, _sql_word_similarity, deterministic=True)


# One search evaluates the function for the same row in WHERE, ORDER BY and the count.
@lru_cache(maxsize=50_000)
def _sql_word_similarity(query: str | None, text: str | None, threshold: float) -> float:
    """``word_similarity``, exact for rows that reach ``threshold``; for the others any
    value below it (an upper bound, when that already decides)."""
    if query is None or text is None:
        return 0.0
    wanted = _query_trigrams(query)
    if not wanted:
        return 0.0
    # The similarity of any extent is at most (shared trigrams) / (query trigrams).
    bound = len(wanted.intersection(trigrams(text))) / len(wanted)
    if bound < threshold:
        return bound
    return word_similarity(query, text)


class PrefilteredWordSimilarity(Func):
    """SQLite: ``word_similarity(word, <field>)``, 0 for rows that cannot reach
    ``threshold`` (decided natively, without calling Python; see the module docstring).

    ``word`` is lower-cased already, like the search document it is compared with.
    """

    output_field = FloatField()

    def __init__(self, word: str, expression: Expression | str, *, threshold: float) -> None:
        super().__init__(expression)
        self.word = word
        self.threshold = threshold

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
        checks = " + ".join(f"(instr({text_sql}, %s) > 0)" for _ in pieces)
        check_params: list[Any] = []
        for piece in pieces:
            check_params.extend([*text_params, piece])
        sql = f"CASE WHEN ({checks}) >= %s THEN {SQL_FUNCTION}(%s, {text_sql}, %s) ELSE 0.0 END"
        return sql, [*check_params, needed, self.word, *text_params, self.threshold]
