"""Patient summaries: one row per generation job and, once it succeeded, its result."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from summaries.engine.core import AUDIENCES, LENGTHS, PROVIDERS, ProviderName
from summaries.engine.core import Audience as AudienceName
from summaries.engine.core import Length as LengthName

_Value = TypeVar("_Value", bound=str)


def _choices(values: tuple[_Value, ...], labels: Mapping[_Value, str]) -> list[tuple[str, str]]:
    """Django choices for the engine's values, in the engine's order, each with a label."""
    assert set(labels) == set(values), f"labels {sorted(labels)} != values {sorted(values)}"
    return [(value, labels[value]) for value in values]


# Values come from the engine (summaries.engine.core); only the labels live here.
AUDIENCE_LABELS: dict[AudienceName, str] = {
    "clinician": "Clinician",
    "family": "Family",
    "patient": "Patient",
}
LENGTH_LABELS: dict[LengthName, str] = {
    "brief": "Brief (about 60 words)",
    "standard": "Standard (about 150 words)",
    "detailed": "Detailed (about 350 words)",
}
PROVIDER_LABELS: dict[ProviderName, str] = {
    "openai": "OpenAI (or an OpenAI-compatible server)",
    "local": "Built-in offline summarizer",
}
AUDIENCE_CHOICES = _choices(AUDIENCES, AUDIENCE_LABELS)
LENGTH_CHOICES = _choices(LENGTHS, LENGTH_LABELS)
PROVIDER_CHOICES = _choices(PROVIDERS, PROVIDER_LABELS)
DEFAULT_AUDIENCE: AudienceName = "clinician"
DEFAULT_LENGTH: LengthName = "standard"
LOCAL_PROVIDER: ProviderName = "local"


class SummaryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI (or an OpenAI-compatible server)"
    LOCAL = "local", "Built-in offline summarizer"


# A queued, running or succeeded job answers a new request for the same input.
REUSABLE_STATUSES = (SummaryStatus.QUEUED, SummaryStatus.RUNNING, SummaryStatus.SUCCEEDED)


class SummaryQuerySet(models.QuerySet["Summary"]):
    def matching(self, *, patient_id: uuid.UUID, audience: str, length: str) -> SummaryQuerySet:
        return self.filter(patient_id=patient_id, audience=audience, length=length)

    def succeeded(self) -> SummaryQuerySet:
        return self.filter(status=SummaryStatus.SUCCEEDED)

    def newest_first(self) -> SummaryQuerySet:
        return self.order_by("-created_at", "-id")

    def running_since_before(self, moment: datetime) -> SummaryQuerySet:
        return self.filter(status=SummaryStatus.RUNNING, started_at__lt=moment)

    def queued_since_before(self, moment: datetime) -> SummaryQuerySet:
        return self.filter(status=SummaryStatus.QUEUED, queued_at__lt=moment)


class Summary(models.Model):
    """A summary job. ``result`` is set when it succeeded, ``error`` when it failed.

    Summaries are derived data: they are deleted with their patient (CASCADE) and never
    keep a patient from being deleted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="summaries"
    )
    audience = models.CharField(max_length=10, choices=AUDIENCE_CHOICES)
    length = models.CharField(max_length=10, choices=LENGTH_CHOICES)
    status = models.CharField(
        max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.QUEUED
    )
    provider = models.CharField(max_length=10, choices=PROVIDER_CHOICES)
    model = models.CharField(max_length=100, help_text="The model that wrote (or will write) it.")
    prompt_version = models.CharField(max_length=32)
    deidentified = models.BooleanField(
        default=True, help_text="Whether direct identifiers were withheld from the provider."
    )
    input_hash = models.CharField(
        max_length=64, help_text="SHA-256 of the record and options the summary is built from."
    )
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Provider calls made by the last run."
    )
    usage = models.JSONField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="When it was last queued (created or retried)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SummaryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "summaries"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SummaryStatus]),
                name="summaries_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(audience__in=list(AUDIENCES)),
                name="summaries_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(length__in=list(LENGTHS)), name="summaries_length_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=SummaryStatus.SUCCEEDED) | Q(result__isnull=False),
                name="summaries_succeeded_has_result",
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "audience", "length", "input_hash"],
                name="summaries_lookup_idx",
            ),
            models.Index(fields=["patient", "created_at"], name="summaries_patient_created_idx"),
            models.Index(fields=["status", "started_at"], name="summaries_status_started_idx"),
            models.Index(fields=["status", "queued_at"], name="summaries_status_queued_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.audience}/{self.length} summary of {self.patient_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (SummaryStatus.SUCCEEDED, SummaryStatus.FAILED)

    def can_retry(self) -> bool:
        return self.status == SummaryStatus.FAILED
