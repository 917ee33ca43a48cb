"""PostgreSQL: pg_trgm and a GIN trigram index for fuzzy search; the MRN counter row.

The index is created only on PostgreSQL (SQLite has no trigram support). It is not part
of the model state on purpose: the model must stay valid on both databases.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEX = "patients_search_trgm_idx"


def create_trigram_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON patients_patient "
        "USING gin (search_document gin_trgm_ops)"
    )


def drop_trigram_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def create_sequence_row(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("patients", "MrnSequence").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]
    operations = [
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(create_sequence_row, migrations.RunPython.noop),
    ]
