from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started


def _fresh_database_attempts(**_: Any) -> None:
    """Each request gets its own honest connection attempt (see core.db.postgresql)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        forget = getattr(connection, "forget_unreachable", None)
        if forget is not None:
            forget()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import schema  # noqa: F401  (registers the OpenAPI extensions)

        request_started.connect(_fresh_database_attempts, dispatch_uid="core.fresh_db_attempts")
