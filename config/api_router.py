"""Every API route under /api/v1/. A trailing slash is optional everywhere."""

from typing import Any

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from accounts.api.views import MeView, TokenView
from appointments.api.views import AppointmentViewSet, DoctorAvailabilityView
from audit.api.views import AuditEventViewSet, PatientAccessLogView, PatientHistoryView
from doctors.api.views import DoctorViewSet
from interactions.api.views import InteractionViewSet, PatientInteractionViewSet
from notes.api.views import NoteViewSet, PatientClinicalDataView, PatientNoteViewSet
from outcomes.api.views import OutcomeViewSet
from patients.api.views import PatientViewSet
from summaries.api.views import (
    CurrentSummaryPageView,
    CurrentSummaryView,
    PatientSummaryViewSet,
    SummaryViewSet,
)
from transfers.api.views import (
    ImportJobViewSet,
    InteractionExportView,
    InteractionImportView,
    PatientExportView,
    PatientImportView,
)


class OptionalSlashRouter(DefaultRouter):
    """Routes match with or without the trailing slash, so there are no redirects."""

    uuid_regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
        self.include_root_view = False
        self.include_format_suffixes = False

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        # Ids are UUIDs: anything else is an unknown URL (404), never a 400 or 500 from a
        # failed UUID conversion. Viewsets keyed otherwise set ``lookup_value_regex``.
        if not getattr(viewset, "lookup_value_regex", None):
            viewset.lookup_value_regex = self.uuid_regex
        return super().get_lookup_regex(viewset, lookup_prefix)


PATIENT = rf"patients/(?P<patient_pk>{OptionalSlashRouter.uuid_regex})"

router = OptionalSlashRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("doctors", DoctorViewSet, basename="doctor")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register(
    rf"patients/(?P<patient_id>{OptionalSlashRouter.uuid_regex})/interactions",
    PatientInteractionViewSet,
    basename="patient-interaction",
)
router.register(rf"{PATIENT}/notes", PatientNoteViewSet, basename="patient-note")
router.register("notes", NoteViewSet, basename="note")
router.register(rf"{PATIENT}/summaries", PatientSummaryViewSet, basename="patient-summaries")
router.register("summaries", SummaryViewSet, basename="summary")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("imports", ImportJobViewSet, basename="import-job")

app_name = "api"
urlpatterns = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="auth-token"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="auth-me"),
    re_path(r"^patients/import/?$", PatientImportView.as_view(), name="patient-import"),
    re_path(r"^patients/export/?$", PatientExportView.as_view(), name="patient-export"),
    re_path(r"^interactions/import/?$", InteractionImportView.as_view(), name="interaction-import"),
    re_path(r"^interactions/export/?$", InteractionExportView.as_view(), name="interaction-export"),
    re_path(
        rf"^{PATIENT}/clinical-data/?$",
        PatientClinicalDataView.as_view(),
        name="patient-clinical-data",
    ),
    re_path(
        rf"^doctors/(?P<pk>{OptionalSlashRouter.uuid_regex})/availability/?$",
        DoctorAvailabilityView.as_view(),
        name="doctor-availability",
    ),
    re_path(rf"^{PATIENT}/summary/?$", CurrentSummaryView.as_view(), name="patient-summary"),
    re_path(
        rf"^{PATIENT}/summary\.html$",
        CurrentSummaryPageView.as_view(),
        name="patient-summary-page",
    ),
    re_path(
        rf"^{PATIENT}/access-log/?$", PatientAccessLogView.as_view(), name="patient-access-log"
    ),
    re_path(rf"^{PATIENT}/history/?$", PatientHistoryView.as_view(), name="patient-history"),
    *router.urls,
]
