"""Reads of list, search and timeline views from a streaming replica; the rest on the primary.

With ``DATABASE_REPLICA_URL`` set there is a second alias, ``replica``. A read goes there
only when all of these hold:

1. the view opted in (``core.views.ReplicaReads`` on a list or timeline action), which sets
   a context variable for the time its handler runs — after authentication, permission
   checks and throttling, which therefore read the primary (the token lookup uses the
   default connection directly);
2. the user has not written within ``DATABASE_REPLICA_STICKY_SECONDS`` (read-your-own-writes:
   ``note_write`` leaves a marker in the Django cache, Redis in production, so every process
   of the deployment sees it);
3. no transaction is open on the primary (a read inside ``atomic`` belongs with its writes);
4. the replica was not found unreachable in the last ``REPLICA_RETRY_SECONDS`` (the view then
   runs again on the primary: a replica that is down never causes a 503).

Writes always go to the primary, whatever instance they start from, and nothing is ever
migrated on the replica. The admin, audit writes and every other view never opt in.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
ALIASES = frozenset({DEFAULT_DB_ALIAS, REPLICA})
# After the replica was found unreachable, this process leaves it alone this long, so a
# replica that is down costs one failed attempt per interval, not a connect timeout per read.
REPLICA_RETRY_SECONDS = 10.0

logger = logging.getLogger(__name__)
_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)
_down_since: float | None = None
_down_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _sticky_key(user_id: object) -> str:
    return f"db:replica:wrote:{user_id}"


def note_write(user_id: object) -> None:
    """``user_id`` just wrote: their reads use the primary for the sticky window.

    A cache that cannot take the marker is logged, not raised: the write has happened, and
    the worst outcome is a read that lags it by the replica's delay."""
    seconds = settings.DATABASE_REPLICA_STICKY_SECONDS
    if seconds <= 0 or not replica_configured():
        return
    try:
        cache.set(_sticky_key(user_id), 1, timeout=seconds)
    except Exception:
        logger.warning("could not record a write for read-your-own-writes", exc_info=True)


def wrote_recently(user_id: object) -> bool:
    """Whether ``user_id`` wrote within the sticky window (unknown counts as yes)."""
    try:
        return cache.get(_sticky_key(user_id)) is not None
    except Exception:
        return True


def replica_available() -> bool:
    return _down_since is None or time.monotonic() - _down_since >= REPLICA_RETRY_SECONDS


def note_replica_down() -> None:
    global _down_since
    with _down_lock:
        _down_since = time.monotonic()
    logger.warning(
        "read replica unreachable; reading from the primary for %.0f s", REPLICA_RETRY_SECONDS
    )


def forget_replica_down() -> None:
    global _down_since
    with _down_lock:
        _down_since = None


def reading_replica() -> bool:
    return _reading_replica.get()


@contextlib.contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Inside the block, reads may use the replica (``enabled``) or must not (``False``)."""
    token = _reading_replica.set(enabled)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def primary() -> contextlib.AbstractContextManager[None]:
    """Reads inside the block use the primary, even in a view that opted in (an access
    decision, for instance, must not lag the write that grants it)."""
    return replica_reads(False)


class PrimaryReplicaRouter:
    """Django database router: see the module docstring for when a read uses the replica."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if (
            _reading_replica.get()
            and replica_available()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        # Explicit: left to Django, saving an instance read from the replica would write there.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if obj1._state.db in ALIASES and obj2._state.db in ALIASES:
            return True  # the same data, whichever server it was read from
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None
