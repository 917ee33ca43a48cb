from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        from django.conf import settings

        from appointments.hours import parse_opening_hours
        from appointments.models import Appointment
        from appointments.timeline import appointment_items
        from patients.dependents import register_patient_dependent
        from patients.timeline import register_timeline_source

        # A malformed CLINIC_OPENING_HOURS stops the process at start, not at a request.
        parse_opening_hours(settings.CLINIC_OPENING_HOURS)
        register_patient_dependent(
            "appointments",
            singular="appointment",
            plural="appointments",
            count=lambda patient: Appointment.objects.filter(patient=patient).count(),
        )
        register_timeline_source("appointment", appointment_items)
