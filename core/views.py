"""``ReplicaReads``: a view's list (and similar) reads may come from the read replica."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar

from django.db import InterfaceError, OperationalError, connections
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from core.db import router

Handler = Callable[..., Response]


class ReplicaReads:
    """Mixin for viewsets and API views (first in the bases): the actions named in
    ``replica_actions`` read from the replica when one is configured (core/db/router.py).

    Authentication, permissions and throttling run first, on the primary. Then, unless the
    user wrote in the last ``DATABASE_REPLICA_STICKY_SECONDS``, the handler runs with
    replica reads on. A replica found unreachable while it runs is remembered for
    ``router.REPLICA_RETRY_SECONDS`` and the handler runs again on the primary: these are
    reads, and the response is the same, only fresher.
    """

    # Viewset actions (or, on a plain API view, lower-case methods) that may read the replica.
    replica_actions: ClassVar[frozenset[str]] = frozenset({"list"})

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if self._may_read_replica(request):
            name = request.method.lower()  # type: ignore[union-attr]
            setattr(self, name, _on_replica(getattr(self, name)))

    def _may_read_replica(self, request: Request) -> bool:
        if request.method not in SAFE_METHODS or request.method == "OPTIONS":
            return False
        operation = getattr(self, "action", None) or (request.method or "").lower()
        if operation not in self.replica_actions or not router.replica_configured():
            return False
        if not router.replica_available():
            return False
        user_id = getattr(request.user, "pk", None)
        return user_id is None or not router.wrote_recently(user_id)


def _on_replica(handler: Handler) -> Handler:
    @wraps(handler)
    def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        replica = connections[router.REPLICA]
        try:
            with router.replica_reads():
                return handler(request, *args, **kwargs)
        except (OperationalError, InterfaceError):
            # The backend notes a lost or refused server on the connection that met it.
            if getattr(replica, "unreachable_at", None) is None:
                raise
        router.note_replica_down()
        with contextlib.suppress(Exception):
            replica.close()
        return handler(request, *args, **kwargs)

    return run
