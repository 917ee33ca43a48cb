"""The API's JSON parser: strict about the shape of what it accepts.

A request body is parsed once, here, and refused with a 400 before any view sees it when:

* it is nested deeper than ``API_JSON_MAX_DEPTH`` levels (``parse_error``; a body nested
  thousands deep would otherwise exhaust the interpreter's recursion limit);
* an array or object has more than ``API_JSON_MAX_ITEMS`` members (``parse_error``);
* an object repeats a key (``duplicate_key``, naming it: a clinical record must not
  depend on which copy a parser happens to keep);
* a number is not finite or an integer lies outside the signed 64-bit range
  (``parse_error``: no column can hold it);
* any string, key or value, contains a NUL character (``validation_error`` on that
  field, like every other field error: PostgreSQL cannot store NUL in text).

Each refusal is one short access-log line; nothing is logged with a traceback.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

INT64_MAX = 2**63 - 1
MAX_REPORTED_FIELDS = 20


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                # Imported here: core.errors imports DRF's views, which import this parser.
                from core.errors import ApiError, CoreErrorCode

                detail = f"The key '{key}' appears more than once in one JSON object."
                raise ApiError(
                    detail,
                    code=CoreErrorCode.DUPLICATE_KEY,
                    errors=[{"field": key, "code": CoreErrorCode.DUPLICATE_KEY, "detail": detail}],
                )
            seen.add(key)
    return result


def _parse_int(text: str) -> int:
    value = int(text)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise exceptions.ParseError("JSON parse error - an integer is out of range.")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise exceptions.ParseError("JSON parse error - a number is out of range.")
    return value


def _parse_constant(name: str) -> Any:
    raise exceptions.ParseError(f"JSON parse error - '{name}' is not valid JSON.")


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def check_structure(data: Any) -> None:
    """Depth, member counts and NUL characters, walked without recursion."""
    max_depth: int = settings.API_JSON_MAX_DEPTH
    max_items: int = settings.API_JSON_MAX_ITEMS
    nul_fields: list[str] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                nul_fields.append(path or "non_field_errors")
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > max_depth:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {max_depth} levels."
            )
        if len(value) > max_items:
            raise exceptions.ParseError(
                f"JSON parse error - an array or object has more than {max_items} members."
            )
        if isinstance(value, dict):
            for key, member in value.items():
                if "\x00" in key:
                    nul_fields.append(_join(path, key.replace("\x00", "\\u0000")))
                    continue
                stack.append((member, _join(path, key), depth + 1))
        else:
            stack.extend((member, _join(path, i), depth + 1) for i, member in enumerate(value))
    if nul_fields:
        from core.errors import CoreErrorCode  # see _pairs_without_duplicates

        raise exceptions.ValidationError(
            {
                field: [
                    exceptions.ErrorDetail(
                        "NUL characters are not allowed.",
                        code=CoreErrorCode.NULL_CHARACTERS_NOT_ALLOWED,
                    )
                ]
                for field in sorted(nul_fields)[:MAX_REPORTED_FIELDS]
            }
        )


def loads(text: str) -> Any:
    """Parse ``text`` as the API does; raises DRF exceptions (never RecursionError)."""
    try:
        data = json.loads(
            text,
            object_pairs_hook=_pairs_without_duplicates,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise exceptions.ParseError(
            f"JSON parse error - nested deeper than {settings.API_JSON_MAX_DEPTH} levels."
        ) from None
    except ValueError as exc:
        # json.JSONDecodeError, and int() refusing a number of thousands of digits.
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    check_structure(data)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the bounds above."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise exceptions.ParseError("JSON parse error - the body is not valid UTF-8.") from None
        return loads(text)
