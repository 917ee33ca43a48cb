from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        from django.conf import settings

        from appointments.hours import parse_opening_hours
        from appointments.timeline import appointment_items
        from patients.timeline import register_timeline_source

        # A malformed CLINIC_OPENING_HOURS stops the process at start, not at a request.
        parse_opening_hours(settings.CLINIC_OPENING_HOURS)
        register_timeline_source("appointment", appointment_items)
