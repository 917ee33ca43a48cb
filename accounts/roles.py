"""The console (Django admin) permissions of each role group.

``docs/permissions.md`` ("The staff console") is the human-readable copy of
:data:`ROLE_MODEL_PERMISSIONS`; ``accounts/tests/test_role_permissions.py`` fails when the
two disagree or when a group in the database holds anything else.

The groups get exactly these permissions from migration ``0002_role_model_permissions``
and again after every ``migrate``/``flush`` (``post_migrate``, see ``AccountsConfig``), so a
model added later by a new migration is covered as soon as the table lists it.
"""

from __future__ import annotations

from typing import Any

# "app_label.model": actions. Viewer reads; Provider makes clinical records (no deletes,
# no configuration); Admin manages everything, staff accounts included.
_CLINICAL = ("patients.patient", "appointments.appointment", "interactions.interaction")
_NOTES = ("notes.note", "notes.signature")
_CONFIGURATION = ("doctors.doctor", "outcomes.outcome")
_SUMMARIES = ("summaries.summary",)
_ACCOUNTS = ("auth.user",)
_READ_ONLY_FOR_ADMIN = ("auth.group",)

ALL_ACTIONS = ("view", "add", "change", "delete")

ROLE_MODEL_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Viewer": {
        **dict.fromkeys((*_CLINICAL, *_NOTES, *_CONFIGURATION, *_SUMMARIES), ("view",)),
    },
    "Provider": {
        **dict.fromkeys(_CLINICAL, ("view", "add", "change")),
        "notes.note": ("view", "add", "change"),
        "notes.signature": ("view",),
        **dict.fromkeys(_CONFIGURATION, ("view",)),
        "summaries.summary": ("view", "add"),
    },
    "Admin": {
        **dict.fromkeys((*_CLINICAL, *_NOTES, *_CONFIGURATION), ALL_ACTIONS),
        "summaries.summary": ("view", "add", "change"),
        **dict.fromkeys(_ACCOUNTS, ALL_ACTIONS),
        **dict.fromkeys(_READ_ONLY_FOR_ADMIN, ("view",)),
    },
}


def codenames(group: str) -> set[str]:
    """``"app_label.action_model"`` strings, as ``User.has_perm`` spells them."""
    result: set[str] = set()
    for model, actions in ROLE_MODEL_PERMISSIONS[group].items():
        app_label, model_name = model.split(".")
        result.update(f"{app_label}.{action}_{model_name}" for action in actions)
    return result


def sync_role_permissions(apps: Any, *, create_missing: bool = True) -> None:
    """Give each role group exactly its permissions (idempotent).

    ``apps`` is a migration state's registry or the live one. Permissions are created by
    ``post_migrate`` after the last migration, so inside a migration they may not exist
    yet: ``create_missing`` creates them first.
    """
    from django.contrib.auth.management import create_permissions

    if create_missing:
        for config in apps.get_app_configs():
            # Migration-state app configs have no models module; the check in
            # create_permissions only needs it to be truthy.
            original = getattr(config, "models_module", None)
            config.models_module = original or True
            create_permissions(config, apps=apps, verbosity=0)
            config.models_module = original
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name in ROLE_MODEL_PERMISSIONS:
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = []
        for full in sorted(codenames(name)):
            app_label, codename = full.split(".")
            wanted.extend(
                permission_model.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)
