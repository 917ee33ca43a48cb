"""PostgreSQL: exclusion constraints that make double booking impossible.

For each doctor, and for each patient, no two *scheduled* appointments may have
overlapping half-open intervals ``[start_time, end_time)``. ``btree_gist`` lets the
GiST index combine equality on the id with range overlap.

Created only on PostgreSQL (SQLite has no exclusion constraints; the booking service
checks inside a write-locked transaction there). They are kept out of the model state
on purpose so that the model and ``makemigrations`` are the same on both databases.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TABLE = "appointments_appointment"
CONSTRAINTS = {
    "appointments_no_doctor_overlap": "doctor_id",
    "appointments_no_patient_overlap": "patient_id",
}


def add_constraints(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(start_time, end_time, '[)') WITH &&) "
            "WHERE (status = 'scheduled')"
        )


def drop_constraints(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [migrations.RunPython(add_constraints, drop_constraints)]
