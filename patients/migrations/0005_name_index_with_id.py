"""The name index gains the tie-breaker ``id``: the patient list's order
(last_name, first_name, id) is then read from the index to its end, so a cursor page
starts at its position and a deep OFFSET page skips rows in the index alone (an
index-only scan) instead of fetching every skipped row. The new index is built before
the old one goes, so the list is never without one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_reference_outcomes"),
        ("patients", "0004_patient_external_id"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["last_name", "first_name", "id"], name="patients_name_id_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="patient", name="patients_name_idx"),
    ]
