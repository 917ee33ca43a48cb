"""Install the reference outcomes. Idempotent: an outcome that exists (perhaps relabelled
by staff) is left as it is. Reversing leaves them in place, since interactions may use
them."""

from typing import Any

from django.db import migrations

REFERENCE_OUTCOMES = [
    {
        "code": "healthy",
        "label": "Healthy",
        "description": "No concerns found.",
        "severity": 0,
        "sort_order": 0,
    },
    {
        "code": "monitor",
        "label": "Monitor",
        "description": "Needs watching; follow up as planned.",
        "severity": 1,
        "sort_order": 1,
    },
    {
        "code": "critical",
        "label": "Critical",
        "description": "Needs urgent attention.",
        "severity": 2,
        "sort_order": 2,
    },
]


def install(apps: Any, schema_editor: Any) -> None:
    Outcome = apps.get_model("outcomes", "Outcome")
    for data in REFERENCE_OUTCOMES:
        values = dict(data)
        Outcome.objects.get_or_create(code=values.pop("code"), defaults=values)


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
