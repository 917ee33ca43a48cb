from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    from django.apps import apps

    from accounts.roles import sync_role_permissions

    # After migrate and after flush (tests on transactional databases): the groups keep
    # exactly the permissions the role table gives them.
    sync_role_permissions(kwargs.get("apps") or apps)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts-sync-roles")
