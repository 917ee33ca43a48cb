"""Patients carry the outcome of their most recent current interaction (maintained)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0001_initial"),
        ("patients", "0002_search_index_and_sequence"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="latest_outcome",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="outcomes.outcome",
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="latest_outcome_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
