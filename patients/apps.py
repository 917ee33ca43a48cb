from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        from patients import name_words
        from patients.trigram import register

        register(connection.connection)
        name_words.register(connection.connection)


def _repair_sqlite_search_index(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """A later migration that rebuilt ``patients_patient`` on SQLite dropped the search
    index's and the name dictionary's triggers with the old table: put them back and
    re-index (patients.search_index, patients.name_words)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    from django.db.migrations.recorder import MigrationRecorder

    from patients import name_words, search_index

    applied = MigrationRecorder(connection).applied_migrations()
    if search_index.MIGRATION in applied:
        search_index.ensure(connection)
    if name_words.MIGRATION in applied:
        name_words.ensure(connection)


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        # pg_trgm's word similarity on every SQLite connection (patients.trigram).
        connection_created.connect(_register_sqlite_functions, dispatch_uid="patients-trgm")
        post_migrate.connect(
            _repair_sqlite_search_index, sender=self, dispatch_uid="patients-trgm-index"
        )
