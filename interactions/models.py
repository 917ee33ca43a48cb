"""Interactions: the documented contacts with a patient (visit, call, check-in).

The history is a medical record and is never rewritten. A correction is a new row that
``amends`` the old one (which becomes ``amended``); an entry made in error is retracted
(``entered_in_error``, with a reason). Both keep the original row intact.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

MAX_NOTES_LENGTH = 20_000
# The one-to-one's unique column (its constraint name differs between databases).
AMENDS_UNIQUE = "interactions_interaction.amends_id"


class InteractionStatus(models.TextChoices):
    CURRENT = "current", "Current"
    AMENDED = "amended", "Amended"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def current(self) -> InteractionQuerySet:
        return self.filter(status=InteractionStatus.CURRENT)

    def newest_first(self) -> InteractionQuerySet:
        """The order that decides a patient's latest outcome: when it happened, then when
        it was written down, then the id (so equal timestamps still have one answer)."""
        return self.order_by("-occurred_at", "-recorded_at", "-id")


class Interaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: interactions_patient_idx (patient, status, occurred_at) starts
    # with it and serves every patient_id lookup, the PROTECT check included.
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,
    )
    doctor = models.ForeignKey(
        "doctors.Doctor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
        help_text="The clinician, if any.",
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
        help_text="The appointment this contact belongs to; same patient.",
    )
    # Indexed in Meta.indexes: a plain B-tree, without the varchar_pattern_ops twin that
    # Django adds for a character key (LIKE on outcome codes is never queried).
    outcome = models.ForeignKey(
        "outcomes.Outcome", on_delete=models.PROTECT, related_name="interactions", db_index=False
    )
    notes = models.TextField(blank=True, default="", max_length=MAX_NOTES_LENGTH)
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # One amendment per entry at most: the unique index (AMENDS_UNIQUE) is the database's
    # guard against two concurrent corrections of the same entry.
    amends = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amended_by",
        help_text="The interaction this one corrects.",
    )
    status = models.CharField(
        max_length=16, choices=InteractionStatus.choices, default=InteractionStatus.CURRENT
    )
    retraction_reason = models.TextField(blank=True, default="", max_length=2000)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in InteractionStatus]),
                name="interactions_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=InteractionStatus.ENTERED_IN_ERROR)
                | (Q(retracted_at__isnull=False) & ~Q(retraction_reason="")),
                name="interactions_retraction_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(amends=F("id")), name="interactions_not_self_amending"
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "status", "occurred_at"], name="interactions_patient_idx"
            ),
            models.Index(fields=["occurred_at"], name="interactions_occurred_idx"),
            models.Index(fields=["outcome"], name="interactions_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.outcome_id} ({self.status})"

    @property
    def is_current(self) -> bool:
        return self.status == InteractionStatus.CURRENT
