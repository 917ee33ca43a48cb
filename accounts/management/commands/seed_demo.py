"""Load the demo clinic: each installed app's ``demo.seed(now=...)``, in app order.

Idempotent (every seeder uses fixed ids or get-or-create), and refused under production
settings unless ``--allow-production`` is given explicitly. Under production settings the
demo users get generated passwords (printed once) unless ``--known-passwords`` insists on
the published ones (see accounts.demo).
"""

from __future__ import annotations

import inspect
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone


class Command(BaseCommand):
    help = "Load demo users and the demo clinic (idempotent; not for production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even under production settings (demo users get generated passwords).",
        )
        parser.add_argument(
            "--known-passwords",
            action="store_true",
            help="Give the demo users their published passwords even under production "
            "settings (throwaway test stacks only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENVIRONMENT == "production" and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates users with published passwords and refuses to run under "
                "production settings. Pass --allow-production only for a throwaway demo stack."
            )
        production = settings.ENVIRONMENT == "production"
        known_passwords = not production or options["known_passwords"]
        if production and known_passwords:
            self.stderr.write(
                "seed_demo: WARNING: published demo passwords under production settings."
            )
        now = timezone.now()
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if find_spec(module_name) is None:
                continue
            module = import_module(module_name)
            kwargs: dict[str, Any] = {}
            if "known_passwords" in inspect.signature(module.seed).parameters:
                kwargs["known_passwords"] = known_passwords
            with transaction.atomic():
                summary = module.seed(now=now, **kwargs)
            self.stdout.write(f"{config.label}: {summary}")
