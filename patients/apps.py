from typing import Any

from django.apps import AppConfig
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        from patients.trigram import register

        register(connection.connection)


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        # pg_trgm's word similarity on every SQLite connection (patients.trigram).
        connection_created.connect(_register_sqlite_functions, dispatch_uid="patients-trgm")
