"""Appointments: a patient's booked time with a doctor.

The no-double-booking rule is an exclusion constraint on PostgreSQL (migration 0002,
kept out of ``Meta`` so that the model state is the same on both databases); on SQLite
the booking service checks and inserts inside one write-locked transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 180

# Names of the PostgreSQL exclusion constraints (see migration 0002 and services).
DOCTOR_OVERLAP_CONSTRAINT = "appointments_no_doctor_overlap"
PATIENT_OVERLAP_CONSTRAINT = "appointments_no_patient_overlap"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def scheduled(self) -> AppointmentQuerySet:
        """Only scheduled appointments block a slot; the other statuses never do."""
        return self.filter(status=AppointmentStatus.SCHEDULED)

    def overlapping(self, start: datetime, end: datetime) -> AppointmentQuerySet:
        """Half-open ``[start, end)`` overlap: back-to-back appointments do not overlap."""
        return self.filter(start_time__lt=end, end_time__gt=start)

    def upcoming(self, now: datetime) -> AppointmentQuerySet:
        return self.scheduled().filter(start_time__gte=now)


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    doctor = models.ForeignKey(
        "doctors.Doctor", on_delete=models.PROTECT, related_name="appointments"
    )
    start_time = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(MIN_DURATION_MINUTES),
            MaxValueValidator(MAX_DURATION_MINUTES),
        ]
    )
    # Stored so the database can index and constrain the interval; always
    # start_time + duration_minutes, computed by the booking service only.
    end_time = models.DateTimeField(editable=False)
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    reason = models.TextField(blank=True, default="", max_length=2000)
    cancellation_reason = models.TextField(blank=True, default="", max_length=2000)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MIN_DURATION_MINUTES)
                & Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="appointments_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="appointments_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AppointmentStatus]),
                name="appointments_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=AppointmentStatus.CANCELLED) | Q(cancelled_at__isnull=False),
                name="appointments_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "start_time"], name="appointments_doctor_start_idx"),
            models.Index(fields=["patient", "start_time"], name="appointments_patient_start_idx"),
            models.Index(fields=["start_time"], name="appointments_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.start_time:%Y-%m-%d %H:%M} {self.doctor} / {self.patient} ({self.status})"

    @property
    def is_scheduled(self) -> bool:
        return self.status == AppointmentStatus.SCHEDULED

    def has_started(self, now: datetime) -> bool:
        return self.start_time <= now
