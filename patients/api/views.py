from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from core.permissions import ClinicalRecord
from patients.api.serializers import PatientSerializer
from patients.filters import PatientFilterSet
from patients.models import Patient
from patients.services import patient_create, patient_delete, patient_update


@extend_schema_view(
    list=extend_schema(summary="List and search patients"),
    create=extend_schema(summary="Register a patient (MRN assigned by the server)"),
    retrieve=extend_schema(summary="Get a patient"),
    update=extend_schema(summary="Replace a patient's demographics"),
    partial_update=extend_schema(summary="Change some demographics"),
    destroy=extend_schema(summary="Delete a patient with no clinical records"),
)
class PatientViewSet(viewsets.ModelViewSet[Patient]):
    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    filterset_class = PatientFilterSet
    permission_classes = [ClinicalRecord]
    ordering_fields = ["last_name", "first_name", "date_of_birth", "created_at", "mrn"]
    ordering = ["last_name", "first_name"]
    error_statuses = {
        "create": {409: "`duplicate_email`: another patient has this email."},
        "update": {409: "`duplicate_email`: another patient has this email."},
        "partial_update": {409: "`duplicate_email`: another patient has this email."},
        "destroy": {409: "`patient_has_records`: the patient has clinical records."},
    }

    def perform_create(self, serializer: BaseSerializer[Patient]) -> None:
        serializer.instance = patient_create(**serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Patient]) -> None:
        assert serializer.instance is not None
        serializer.instance = patient_update(
            patient=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Patient) -> None:
        patient_delete(patient=instance)
