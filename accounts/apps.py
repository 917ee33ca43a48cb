from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    from django.apps import apps

    from accounts.roles import sync_role_permissions

    # After migrate and after flush (tests on transactional databases): the groups keep
    # exactly the permissions the role table gives them. post_migrate is sent once per
    # app that has models (accounts has none), in INSTALLED_APPS order; act on the last
    # one, when every app's permissions exist, and with the live registry.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if with_models and sender is with_models[-1]:
        sync_role_permissions(apps)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, dispatch_uid="accounts-sync-roles")
