"""The dictionary of name words for spelling-corrected search (``patients.name_words``).

Creates ``patients_nameword`` (each first and last name once, lower-cased as the lookup
key), the triggers on ``patients_patient`` that add the names of every written row, on
SQLite and PostgreSQL alike, and fills it from the stored patients; adds an index on
``first_name`` (a corrected first name is looked up alone; ``last_name`` leads the
existing name index). On PostgreSQL the index build holds writes to the patients for its
duration (about a second at a million patients here), and a GIN trigram index on the
dictionary's words serves the lookup of names a query word is similar to.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from patients import name_words


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    name_words.ensure(schema_editor.connection)
    name_words.rebuild(schema_editor.connection)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    name_words.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_reference_outcomes"),
        ("patients", "0008_latest_outcome_table"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "word",
                    models.CharField(
                        help_text="The name lower-cased: the lookup key.", max_length=100
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The name as stored on the patient.", max_length=100
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="nameword",
            constraint=models.UniqueConstraint(
                fields=("word", "name"), name="patients_nameword_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["first_name"], name="patients_first_name_idx"),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
