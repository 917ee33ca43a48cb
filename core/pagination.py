"""List pagination: page numbers for every client, keyset cursors for deep walks, and
counts that stay cheap on large tables.

* ``?page=&page_size=`` (default 20, max 100) works as it always did: a non-integer,
  zero or negative page, or a page size outside 1..100, is a 400 (never silently
  clamped); a page past the end is a 404.
* ``next`` and ``previous`` are **cursor links** whenever the list is ordered by plain
  columns ending in the primary key (every list's default order, and any ``?ordering=``):
  the cursor is the position of the first or last row shown, so the following page is
  read straight from the ordering index (``WHERE (a, b, id) > (…)``) and costs the same
  at any depth; rows inserted meanwhile never repeat or shift a page. An ``OFFSET`` page
  costs the rows it skips; deep offsets read ids from the index alone first (a deferred
  join). Search results, ranked by an expression, keep page-number links.
* ``count`` is exact up to ``PAGINATION_EXACT_COUNT_LIMIT`` rows. Above it, on
  PostgreSQL, it is the planner's estimate — ``pg_class.reltuples`` for an unfiltered
  table, the ``EXPLAIN`` row estimate for a filtered list, never less than the limit + 1
  — and ``count_is_estimate`` is true. ``next`` does not depend on the count: a page asks
  for one row more than it shows. SQLite (the embedded default) always counts exactly.
  A page-number page with no row after it tells the count itself (the rows before it
  plus its own), so a list that fits on one page — a doctor's day, most searches — costs
  no count statement.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import F, Field, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.errors import CoreErrorCode

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

MAX_PAGE_NUMBER = 1_000_000
# From this offset on, a page reads its ids from the ordering index first.
DEFERRED_JOIN_OFFSET = 1_000

# The compiled inner query is Django's own (values as parameters); the table name is a
# parameter too.
COUNT_OR_ESTIMATE_SQL = (
    "SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "  # nosec B608
    "ELSE (SELECT count(*) FROM ({inner}) bounded) END, c.reltuples > %s "
    "FROM pg_class c WHERE c.oid = %s::regclass"
)
Key = tuple[Field[Any, Any], bool]  # (column, descending)


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]}, code=CoreErrorCode.INVALID)


def keyset(queryset: QuerySet[Any]) -> list[Key] | None:
    """The list's order as (column, descending) pairs if a cursor can continue it: plain
    non-null columns of the model ending in the primary key; otherwise None."""
    query = queryset.query
    order = list(query.order_by) if query.order_by else list(query.get_meta().ordering or [])
    if not query.default_ordering and not query.order_by:
        return None
    meta = queryset.model._meta
    keys: list[Key] = []
    for item in order:
        if not isinstance(item, str):
            return None  # an expression (search ranking)
        descending = item.startswith("-")
        name = item.lstrip("-")
        if name == "pk":
            name = meta.pk.name
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            return None  # an annotation
        if not getattr(field, "concrete", False) or field.null or field.is_relation:
            return None
        keys.append((field, descending))
        if field.primary_key:
            return keys
    return None  # no unique tie-breaker: a cursor could skip or repeat rows


def _signature(keys: list[Key]) -> str:
    return ",".join(("-" if desc else "") + field.attname for field, desc in keys)


def encode_cursor(keys: list[Key], row: Any, *, before: bool) -> str:
    values = [field.value_to_string(row) for field, _ in keys]
    raw = json.dumps([_signature(keys), "b" if before else "a", values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(keys: list[Key], cursor: str) -> tuple[list[Any], bool]:
    """The position in ``cursor`` and whether it points backwards; a 400 if it is not one
    of ours or belongs to another ordering."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        signature, direction, raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if signature != _signature(keys) or direction not in ("a", "b"):
            raise ValueError
        if not isinstance(raw_values, list) or len(raw_values) != len(keys):
            raise ValueError
        pairs = zip(keys, raw_values, strict=True)
        values = [field.to_python(value) for (field, _), value in pairs]
    except (ValueError, TypeError, UnicodeError, binascii.Error, DjangoValidationError):
        raise _invalid(
            "cursor", "Invalid cursor (use the next/previous links of the same list)."
        ) from None
    return values, direction == "b"


def _beyond(
    keys: list[Key], values: list[Any], *, backwards: bool
) -> Q | TupleGreaterThan | TupleLessThan:
    """Rows after (or, backwards, before) the position ``values`` in the list's order."""
    directions = {desc for _, desc in keys}
    if len(directions) == 1:
        # One direction: a row-value comparison, which the ordering index serves exactly.
        lookup = TupleLessThan if directions.pop() != backwards else TupleGreaterThan
        return lookup(Tuple(*(F(field.attname) for field, _ in keys)), tuple(values))
    # Mixed directions: (a > x) OR (a = x AND (b < y OR ...)), led by a >= x for the index.
    condition: Q | None = None
    for (field, desc), value in reversed(list(zip(keys, values, strict=True))):
        op = "lt" if desc != backwards else "gt"
        strictly = Q(**{f"{field.attname}__{op}": value})
        condition = (
            strictly
            if condition is None
            else Q(**{f"{field.attname}__{op}e": value})
            & (strictly | (Q(**{field.attname: value}) & condition))
        )
    assert condition is not None
    return condition


def count_rows(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """``(count, is_estimate)``: exact up to ``PAGINATION_EXACT_COUNT_LIMIT`` rows, the
    planner's estimate above it on PostgreSQL (see the module docstring)."""
    limit = settings.PAGINATION_EXACT_COUNT_LIMIT
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count(), False
    query = queryset.query
    bounded = queryset.order_by().values("pk")[: limit + 1]
    if not query.where and not query.distinct and not query.combinator:
        # Unfiltered: the table's row estimate, or (a small table) the bounded count —
        # one statement; PostgreSQL runs the subquery only when the CASE needs it.
        inner, params = bounded.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                COUNT_OR_ESTIMATE_SQL.format(inner=inner),
                [limit, *params, limit, queryset.model._meta.db_table],
            )
            count, estimated = cursor.fetchone()
        if estimated or count <= limit:
            return int(count), estimated
    else:
        count = bounded.count()
        if count <= limit:
            return count, False
    plan = json.loads(queryset.order_by().explain(format="json"))
    return max(limit + 1, int(plan[0]["Plan"]["Plan Rows"])), True


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=&page_size=``, or ``?cursor=`` from a ``next``/``previous`` link (see the
    module docstring)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_param = "cursor"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise _invalid("page_size", "A whole number is required.") from None
        if not 1 <= size <= self.max_page_size:
            raise _invalid("page_size", f"Must be between 1 and {self.max_page_size}.")
        return size

    def _page_number(self, request: Request) -> int:
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            raise _invalid("page", "A whole number is required.") from None
        if not 1 <= number <= MAX_PAGE_NUMBER:
            raise _invalid("page", f"Must be between 1 and {MAX_PAGE_NUMBER}.")
        return number

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        self.page_size_value = self.get_page_size(request)
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor is not None and self.page_query_param in request.query_params:
            raise _invalid("cursor", "Give either page or cursor, not both.")
        self.keys: list[Key] | None = None
        self.number: int | None = None
        if isinstance(queryset, QuerySet):
            self.keys = keyset(queryset)
        size = self.page_size_value
        known: int | None = None  # the count, when the page itself tells it
        if raw_cursor is not None:
            if self.keys is None:
                raise _invalid("cursor", "This list (ranked search results) pages by number.")
            assert isinstance(queryset, QuerySet)
            values, backwards = decode_cursor(self.keys, raw_cursor)
            rows = self._cursor_rows(queryset, values, backwards, size)
        else:
            self.number = self._page_number(request)
            offset = (self.number - 1) * size
            rows = self._offset_rows(queryset, offset, size + 1)
            if not rows and self.number > 1:
                raise NotFound("That page does not exist.")
            self.has_previous = self.number > 1
            self.has_next = len(rows) > size
            rows = rows[:size]
            if not self.has_next:
                known = offset + len(rows)  # the last page: nothing after it
        if not isinstance(queryset, QuerySet):
            self.count, self.count_is_estimate = len(queryset), False
        elif known is not None and known <= settings.PAGINATION_EXACT_COUNT_LIMIT:
            # What the count statement would return, without its round trip: a day's
            # appointments, a search's few matches, any list that fits on its last page.
            self.count, self.count_is_estimate = known, False
        else:
            self.count, self.count_is_estimate = count_rows(queryset)
        self.rows = rows
        return rows

    def _cursor_rows(
        self, queryset: QuerySet[Any], values: list[Any], backwards: bool, size: int
    ) -> list[Any]:
        assert self.keys is not None
        page = queryset.filter(_beyond(self.keys, values, backwards=backwards))
        if backwards:
            page = page.reverse()
        rows = list(page[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        # Coming back from a later page there is one; going on, there is one before.
        self.has_next, self.has_previous = (True, more) if backwards else (more, True)
        return rows

    def _offset_rows(
        self, queryset: QuerySet[Any] | Sequence[Any], offset: int, limit: int
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet) or offset < DEFERRED_JOIN_OFFSET:
            return list(queryset[offset : offset + limit])
        # Skip rows in the index alone, then fetch only the page's rows.
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
        return list(queryset.filter(pk__in=ids))

    def _link(self, **params: Any) -> str:
        assert self.request is not None
        url = self.request.build_absolute_uri()
        for name in (self.page_query_param, self.cursor_query_param):
            url = remove_query_param(url, name)
        for name, value in params.items():
            url = replace_query_param(url, name, value)
        return url

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.keys is not None and self.rows:
            return self._link(cursor=encode_cursor(self.keys, self.rows[-1], before=False))
        assert self.number is not None
        return self._link(page=self.number + 1)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if self.keys is not None and self.rows:
            return self._link(cursor=encode_cursor(self.keys, self.rows[0], before=True))
        if self.number is None:
            return None
        return self._link() if self.number == 2 else self._link(page=self.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_is_estimate": self.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = (
            "How many rows the list holds: exact when `count_is_estimate` is false, else "
            "the database's estimate (lists above PAGINATION_EXACT_COUNT_LIMIT rows)."
        )
        properties["count_is_estimate"] = {"type": "boolean", "example": False}
        properties["next"]["description"] = (
            "The following page: a `cursor` link (continues after the last row shown, as "
            "fast at any depth) except for ranked search results (a `page` link); null at "
            "the end."
        )
        properties["previous"]["description"] = "The page before, like `next`; null on the first."
        response["required"] = ["count", "count_is_estimate", "next", "previous", "results"]
        return response

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER}
            elif param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        params.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "An opaque position from a `next`/`previous` link (not "
                "together with `page`). Keep the other parameters as the link has them.",
                "schema": {"type": "string"},
            }
        )
        return params
