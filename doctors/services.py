"""Every write to a doctor goes through here (API, admin, demo data)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.actors import record_actor
from core.errors import Conflict, conflict_from_constraint, conflict_from_protected
from core.updates import UNSET, Unset, model_update, update_fields
from doctors.errors import DoctorErrorCode
from doctors.models import EMAIL_UNIQUE, USER_UNIQUE, Doctor

if TYPE_CHECKING:
    from appointments.models import Appointment


@dataclass(frozen=True)
class DoctorStatusChange:
    doctor: Doctor
    # Scheduled appointments from now on that need another doctor (only on deactivation).
    future_appointments: list[Appointment]


def _duplicate_email() -> Conflict:
    return Conflict(
        "A doctor with this email already exists.", code=DoctorErrorCode.DUPLICATE_EMAIL
    )


def _user_already_linked() -> Conflict:
    return Conflict(
        "That user account is already linked to another doctor.",
        code=DoctorErrorCode.USER_ALREADY_LINKED,
    )


def _ensure_unique(doctor: Doctor) -> None:
    others = Doctor.objects.exclude(pk=doctor.pk)
    if others.filter(email__iexact=doctor.email).exists():
        raise _duplicate_email()
    if doctor.user_id is not None and others.filter(user_id=doctor.user_id).exists():
        raise _user_already_linked()


def doctor_check(*, doctor: Doctor) -> None:
    """Check ``doctor`` (new, or an existing one with its new values) without writing:
    raises exactly what :func:`doctor_create` and :func:`doctor_update` would before the
    database is asked. Forms call it to show the error on the form."""
    doctor.full_clean(validate_constraints=False, validate_unique=False)
    _ensure_unique(doctor)


def _save(doctor: Doctor, actor: User) -> Doctor:
    doctor_check(doctor=doctor)
    record_actor(doctor, actor)
    try:
        with transaction.atomic():
            doctor.save()
    except IntegrityError as exc:
        # The unique indexes are the real guard when two requests race past the checks.
        raise conflict_from_constraint(
            exc,
            {EMAIL_UNIQUE: _duplicate_email(), USER_UNIQUE: _user_already_linked()},
        ) from exc
    return doctor


@transaction.atomic
def doctor_create(
    *,
    actor: User,
    full_name: str,
    specialty: str,
    email: str,
    phone: str | None = None,
    user: User | None = None,
    is_active: bool = True,
    pk: uuid.UUID | None = None,
) -> Doctor:
    """Add a doctor. ``pk`` fixes the id (demo data); otherwise a random UUID."""
    doctor = Doctor(
        full_name=full_name,
        specialty=specialty,
        email=email,
        phone=phone,
        user=user,
        is_active=is_active,
    )
    if pk is not None:
        doctor.pk = pk
    return _save(doctor, actor)


@transaction.atomic
def doctor_update(
    *,
    doctor: Doctor,
    actor: User,
    full_name: str | Unset = UNSET,
    specialty: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset | None = UNSET,
    user: User | Unset | None = UNSET,
) -> Doctor:
    """Change a doctor's details; ``is_active`` changes only through ``doctor_toggle_status``."""
    model_update(
        instance=doctor,
        data={
            "full_name": full_name,
            "specialty": specialty,
            "email": email,
            "phone": phone,
            "user": user,
        },
    )
    return _save(doctor, actor)


EDITABLE_FIELDS = update_fields(doctor_update)


@transaction.atomic
def doctor_toggle_status(
    *, doctor: Doctor, actor: User, now: datetime | None = None
) -> DoctorStatusChange:
    """Flip ``is_active``. Deactivating never cancels anything: it reports the scheduled
    appointments from ``now`` on, which staff must move to another doctor."""
    now = now or timezone.now()
    doctor = Doctor.objects.select_for_update().get(pk=doctor.pk)
    record_actor(doctor, actor)
    doctor.is_active = not doctor.is_active
    doctor.save(update_fields=["is_active", "updated_at"])
    future: list[Appointment] = []
    if not doctor.is_active:
        future = list(
            doctor.appointments.scheduled()
            .filter(start_time__gte=now)
            .select_related("patient")
            .order_by("start_time", "id")
        )
    return DoctorStatusChange(doctor=doctor, future_appointments=future)


@transaction.atomic
def doctor_delete(*, doctor: Doctor, actor: User) -> None:
    """Delete a doctor who never had an appointment; otherwise 409 ``has_dependents``."""
    record_actor(doctor, actor)
    try:
        with transaction.atomic():
            doctor.delete()
    except ProtectedError as exc:
        raise conflict_from_protected(
            exc, what="The doctor", hint="Deactivate them instead."
        ) from exc
