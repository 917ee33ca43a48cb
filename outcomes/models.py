"""Outcomes: the reference list clinicians choose from when documenting an interaction.

Outcomes are data, not an enum in code: staff add, relabel, reorder and deactivate them.
The ``code`` is the primary key and never changes once created, so that history and
analysis keep meaning the same thing whatever the label becomes.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from outcomes.errors import OutcomeErrorCode

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,49}$"
# The natural primary key (its constraint name differs between databases).
CODE_UNIQUE = "outcomes_outcome.code"
MAX_SEVERITY = 1000

code_validator = RegexValidator(
    CODE_PATTERN,
    message="Use 1 to 50 lower-case letters, digits, '-' or '_', starting with a letter or digit.",
    code=OutcomeErrorCode.INVALID_CODE,
)


class OutcomeQuerySet(models.QuerySet["Outcome"]):
    def active(self) -> OutcomeQuerySet:
        return self.filter(is_active=True)


class Outcome(models.Model):
    code = models.SlugField(
        primary_key=True,
        max_length=50,
        validators=[code_validator],
        help_text="Stable identifier, lower-case; cannot change once created.",
    )
    label = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="", max_length=2000)
    severity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SEVERITY)],
        help_text="Higher is worse; used for sorting and alerts.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive outcomes cannot be chosen for new interactions."
    )
    sort_order = models.PositiveSmallIntegerField(
        default=0, help_text="Position in pick lists (ascending)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "severity", "code"]
        constraints = [
            # Codes are stored lower-case, which makes the primary key case-insensitive.
            models.CheckConstraint(condition=Q(code=Lower("code")), name="outcomes_code_lower"),
            models.CheckConstraint(
                condition=Q(severity__lte=MAX_SEVERITY), name="outcomes_severity_range"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        self.label = (self.label or "").strip()
        self.description = (self.description or "").strip()
