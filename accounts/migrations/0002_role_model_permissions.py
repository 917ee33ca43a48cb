"""Give the three role groups the console permissions of ``accounts/roles.py``."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    group = apps.get_model("auth", "Group")
    for item in group.objects.filter(name__in=("Viewer", "Provider", "Admin")):
        item.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("patients", "0003_latest_outcome"),
        ("doctors", "0001_initial"),
        ("appointments", "0002_no_overlap_exclusion_constraints"),
        ("outcomes", "0002_reference_outcomes"),
        ("interactions", "0001_initial"),
        ("notes", "0001_initial"),
        ("summaries", "0001_initial"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
