from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "summaries"
    verbose_name = "Patient summaries"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        # A misconfigured provider stops the process at start, not at the first job.
        if settings.SUMMARY_PROVIDER not in ("openai", "local"):
            raise ImproperlyConfigured(
                f"SUMMARY_PROVIDER must be 'openai' or 'local', not {settings.SUMMARY_PROVIDER!r}."
            )
        if settings.SUMMARY_PROVIDER == "openai" and not settings.OPENAI_API_KEY:
            raise ImproperlyConfigured("SUMMARY_PROVIDER=openai needs OPENAI_API_KEY.")
