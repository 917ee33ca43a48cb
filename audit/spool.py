"""Read events, batched without loss: a crash-safe spool in front of the hash chain.

Appending to the chain costs a write transaction (three statements and a commit) per
event. For reads (GET) that is most of what a request costs, so in ``spool`` mode
(``AUDIT_READ_MODE``) a read's event is first written as one JSON line to a spool file,
before the response leaves the process, and a flusher moves spooled events into the chain
in batches (one transaction per batch).

Why none is lost on a crash:

* the line is handed to the kernel (``os.write`` on an ``O_APPEND`` file) before the
  response is returned; if the process dies afterwards the line is in the file (the page
  cache survives a process crash; ``AUDIT_SPOOL_FSYNC=true`` adds an fsync per event for
  power loss, at the price of a disk flush per read);
* a process holds an exclusive ``flock`` on the segment it writes. The lock dies with the
  process, so any other process's flusher (or ``manage.py audit_drain``, e.g. at start-up)
  can tell an orphaned segment from a live one and drains it;
* draining is idempotent: each event carries its id from the start, and ids already in
  the table are skipped, so a crash between the batch's commit and the file's removal
  duplicates nothing. A segment is removed only after its batch committed;
* a line cut short by a crash in the middle of ``write`` belongs to a response that was
  never sent; it is skipped.

Writes never go through the spool: their event is part of the change's transaction.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger("clinic.audit")

SUFFIX = ".jsonl"


class Spool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._pid = 0
        self._thread: threading.Thread | None = None

    @property
    def directory(self) -> Path:
        path = Path(settings.AUDIT_SPOOL_DIR)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _open_segment(self) -> None:
        path = self.directory / f"{os.getpid()}-{uuid.uuid4().hex}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd, self._path, self._pid = fd, path, os.getpid()

    def put(self, fields: dict[str, Any]) -> None:
        """Spool one event; returns once the kernel has it."""
        line = (json.dumps(fields, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            if self._fd is None or self._pid != os.getpid():  # first use, or a forked child
                self._open_segment()
            assert self._fd is not None
            os.write(self._fd, line)
            if settings.AUDIT_SPOOL_FSYNC:
                os.fsync(self._fd)
        self._start_flusher()

    def rotate(self) -> Path | None:
        """Close the current segment (releasing its lock) so that it can be drained."""
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                return None
            fd, path = self._fd, self._path
            self._fd = self._path = None
            os.close(fd)
            return path

    def flush(self) -> int:
        """Drain this process's segment and any orphaned ones; the events stored."""
        self.rotate()
        return drain(self.directory)

    def _start_flusher(self) -> None:
        interval = settings.AUDIT_SPOOL_FLUSH_SECONDS
        if interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="audit-spool-flusher", daemon=True
            )
            self._thread.start()

    def _run(self, interval: float) -> None:
        from django.db import connections

        while True:
            time.sleep(interval)
            try:
                self.flush()
            except Exception:  # the events stay spooled; the next round tries again
                logger.exception("audit spool could not be drained")
            finally:
                connections.close_all()


def _read_segment(fd: int) -> list[dict[str, Any]]:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    events = []
    for line in b"".join(chunks).splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # cut short by a crash: that response was never sent
    return events


def drain(directory: Path) -> int:
    """Move every segment no live process is writing into the chain."""
    from audit.chain import append_many

    stored = 0
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # drained by another process meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer's segment, or another drainer's
            if not path.exists():
                continue
            stored += append_many(_read_segment(fd))
            path.unlink()
        finally:
            os.close(fd)
    return stored


spool = Spool()


@atexit.register
def _flush_at_exit() -> None:
    with contextlib.suppress(Exception):
        if spool._fd is not None and spool._pid == os.getpid():
            spool.flush()
