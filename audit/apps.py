from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Write hooks (an event rides in the transaction of the change it records) and
        # the sign-in events of the admin console.
        from audit import receivers  # noqa: F401
