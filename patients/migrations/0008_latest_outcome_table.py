"""The latest outcome moves from two columns of ``patients_patient`` to a table of its
own (``patients.LatestOutcome``), and the unused LIKE index on ``mrn`` goes.

Every change of an indexed column of the patient row rewrote all ten of its indexes,
the trigram GIN index among them: recording one interaction, or importing 100,000,
paid for that. The narrow table has two indexes. Existing values are copied over.

``patients_patient_mrn_44c0c6a8_like`` (``varchar_pattern_ops``, added by Django for
the unique ``mrn``) serves only ``LIKE 'prefix%'`` queries, and none is made: MRNs are
matched whole (``mrn_key``) or case-insensitively (``upper()``, which it cannot serve).
"""

import django.db.models.deletion
from django.db import migrations, models

MRN_LIKE_INDEX = "patients_patient_mrn_44c0c6a8_like"

COPY_FORWARD = """
INSERT INTO patients_latestoutcome (patient_id, outcome_id, occurred_at)
SELECT id, latest_outcome_id, latest_outcome_at FROM patients_patient
WHERE latest_outcome_id IS NOT NULL AND latest_outcome_at IS NOT NULL
"""
COPY_BACK = """
UPDATE patients_patient SET
    latest_outcome_id = (SELECT l.outcome_id FROM patients_latestoutcome l
                         WHERE l.patient_id = patients_patient.id),
    latest_outcome_at = (SELECT l.occurred_at FROM patients_latestoutcome l
                         WHERE l.patient_id = patients_patient.id)
"""


def drop_mrn_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {MRN_LIKE_INDEX}")


def create_mrn_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {MRN_LIKE_INDEX} "
            "ON patients_patient (mrn varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_reference_outcomes"),
        ("patients", "0007_drop_unused_like_indexes"),
    ]

    operations = [
        # The index name moves to the new table: drop it from the patients first.
        migrations.RemoveIndex(model_name="patient", name="patients_latest_outcome_idx"),
        migrations.CreateModel(
            name="LatestOutcome",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="latest",
                        serialize=False,
                        to="patients.patient",
                    ),
                ),
                (
                    "outcome",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="outcomes.outcome",
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
            ],
            options={
                "indexes": [models.Index(fields=["outcome"], name="patients_latest_outcome_idx")],
            },
        ),
        migrations.RunSQL(COPY_FORWARD, COPY_BACK, elidable=False),
        migrations.RemoveField(model_name="patient", name="latest_outcome"),
        migrations.RemoveField(model_name="patient", name="latest_outcome_at"),
        migrations.RunPython(drop_mrn_like, create_mrn_like, elidable=False),
    ]
