"""The API's JSON renderer: DRF's output, encoded by orjson.

DRF's ``JSONRenderer`` runs the standard library's encoder, which calls back into Python
for every value it does not know (each datetime, each UUID) and builds the text in
pieces; orjson does the same work in one native pass. The output is DRF's, byte for
byte, for everything the API returns:

* compact separators, UTF-8 without ``\\u`` escapes, ``\\u2028``/``\\u2029`` escaped as
  DRF escapes them;
* every value orjson would format its own way goes through DRF's own
  ``JSONEncoder.default`` instead: datetimes, dates and times (``OPT_PASSTHROUGH_DATETIME``:
  ``Z`` for UTC, microseconds as Python prints them), dataclasses, Decimals (floats),
  timedeltas, lazy translations, sets; UUIDs are written as ``str(uuid)`` by both;
* a request for indented output (``Accept: application/json; indent=4``), an integer
  beyond 64 bits, or anything orjson refuses is rendered by DRF's renderer itself, so it
  answers (or fails) exactly as before.

Two differences remain: a float below 1e-4 keeps its value but not Python's spelling
(``1e-7`` for ``1e-07``, the same number to any JSON reader), and a non-finite float
(NaN, Infinity), which DRF refuses with an error, is written ``null``; no serializer of
the API produces one (decimals are rendered as strings, and the JSON parser refuses
non-finite numbers in requests, so none is stored from one).
``core/tests/test_renderers.py`` compares both renderers on every kind of value.

Parsing stays with ``core.parsers.JSONParser``: orjson cannot report duplicate keys or
bound nesting depth, which that parser must.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    """``application/json`` as DRF renders it, encoded by orjson (see the module)."""

    _default = staticmethod(JSONEncoder().default)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self._default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATOR in out or _PARAGRAPH_SEPARATOR in out:
            out = out.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return out
