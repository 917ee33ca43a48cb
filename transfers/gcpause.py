"""Pausing Python's cyclic garbage collector while a bulk transfer builds its rows.

Parsing and validating a file allocate several long-lived container objects per row
(the parsed row, its ``_Row``, the validated patient, ...) and none of them form
reference cycles: reference counting frees them all. The cyclic collector does not know
that. It runs a young-generation pass every 700 net allocations and a full pass each
time the surviving objects grow by a quarter, walking every one of them, so on a
100,000-row import it took ~40 % of the Python time (``bench/RESULTS.md``, third round).

:func:`gc_paused` switches it off for the duration and back on afterwards; pauses nest
and may overlap across threads (a counter under a lock: the collector is switched on
again only when the last pause ends, and only if it was on when the first began). Cycles
that other threads make meanwhile are collected at the first pass after the pause.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector disabled (see the module doc)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
