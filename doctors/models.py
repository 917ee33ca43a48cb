"""Doctors: who can be booked, and whether they currently take appointments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from core.validators import clean_phone

EMAIL_UNIQUE = "doctors_email_unique_ci"
# The one-to-one's unique column (its constraint name differs between databases).
USER_UNIQUE = "doctors_doctor.user_id"


class DoctorQuerySet(models.QuerySet["Doctor"]):
    def active(self) -> DoctorQuerySet:
        return self.filter(is_active=True)

    def search(self, text: str) -> DoctorQuerySet:
        """Every word must appear in the name or the specialty (case-insensitive)."""
        qs = self
        for word in text.split()[:8]:
            qs = qs.filter(
                models.Q(full_name__icontains=word) | models.Q(specialty__icontains=word)
            )
        return qs


class Doctor(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    full_name = models.CharField(max_length=200)
    specialty = models.CharField(
        max_length=100, db_index=True, help_text="Free text, e.g. Cardiology."
    )
    email = models.EmailField(help_text="Unique (case-insensitively); stored lower-case.")
    phone = models.CharField(  # noqa: DJ001 (null = none given, returned as null by the API)
        max_length=16, null=True, blank=True, help_text="E.164, e.g. +14155552671."
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive doctors cannot be booked; change it with toggle-status."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="doctor_profile",
        help_text="The account this doctor signs in with (as a Provider), if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DoctorQuerySet.as_manager()

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name=EMAIL_UNIQUE,
                violation_error_message="A doctor with this email already exists.",
            ),
        ]
        indexes = [models.Index(fields=["full_name"], name="doctors_name_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.specialty})"

    def clean(self) -> None:
        """Normalise the contact details (reported field by field)."""
        errors: dict[str, list[str]] = {}
        self.full_name = (self.full_name or "").strip()
        self.specialty = (self.specialty or "").strip()
        for name in ("full_name", "specialty"):
            if not getattr(self, name):
                errors.setdefault(name, []).append("This field may not be blank.")
        self.email = (self.email or "").strip().lower()
        try:
            self.phone = clean_phone(self.phone)
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
        if errors:
            raise ValidationError(errors)
