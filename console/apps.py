from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console's own pages: the dashboard (the admin index). It reads every
    slice and no slice imports it."""

    name = "console"
    verbose_name = "Staff console"
