"""Every write to a patient goes through here (API, admin, fixtures, importers)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.actors import record_actor
from core.errors import Conflict, conflict_from_constraint, conflict_from_protected
from core.updates import UNSET, Unset, model_update, update_fields
from patients.errors import PatientErrorCode
from patients.models import EMAIL_UNIQUE, Gender, MrnSequence, Patient


def _next_mrn() -> str:
    """Take the next MRN. Call inside the creating transaction: the row lock serialises
    concurrent creations so two patients can never get the same number."""
    sequence, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"MRN-{sequence.last_value:06d}"


def _duplicate_email() -> Conflict:
    return Conflict(
        "A patient with this email already exists.", code=PatientErrorCode.DUPLICATE_EMAIL
    )


def _ensure_email_free(patient: Patient) -> None:
    if patient.email and (
        Patient.objects.filter(email__iexact=patient.email).exclude(pk=patient.pk).exists()
    ):
        raise _duplicate_email()


def _save(patient: Patient, actor: User) -> Patient:
    patient.full_clean(validate_constraints=False)
    _ensure_email_free(patient)
    record_actor(patient, actor)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        # The unique index is the real guard when two requests race past the check.
        raise conflict_from_constraint(exc, {EMAIL_UNIQUE: _duplicate_email()}) from exc
    return patient


@transaction.atomic
def patient_create(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    gender: str = Gender.UNKNOWN,
    email: str | None = None,
    phone: str | None = None,
) -> Patient:
    """Register a patient and assign the next MRN. Names and birthdays may repeat."""
    patient = Patient(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        gender=gender,
        email=email,
        phone=phone,
    )
    patient.mrn = _next_mrn()
    return _save(patient, actor)


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    actor: User,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    date_of_birth: date | Unset = UNSET,
    gender: str | Unset = UNSET,
    email: str | Unset | None = UNSET,
    phone: str | Unset | None = UNSET,
) -> Patient:
    """Change demographics (the fields given); the MRN never changes."""
    model_update(
        instance=patient,
        data={
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "gender": gender,
            "email": email,
            "phone": phone,
        },
    )
    return _save(patient, actor)


EDITABLE_FIELDS = update_fields(patient_update)


@transaction.atomic
def patient_delete(*, patient: Patient, actor: User) -> None:
    """Delete a patient no record refers to; otherwise 409 ``has_dependents`` naming them
    (the PROTECT foreign keys of appointments, interactions, notes, ... say who)."""
    record_actor(patient, actor)
    try:
        with transaction.atomic():
            patient.delete()
    except ProtectedError as exc:
        raise conflict_from_protected(exc, what="The patient") from exc


@transaction.atomic
def mrn_sequence_sync() -> int:
    """Move the MRN counter past every stored MRN (after loading fixtures)."""
    sequence, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
    highest = 0
    for mrn in Patient.objects.values_list("mrn", flat=True):
        digits = mrn.rsplit("-", 1)[-1]
        if digits.isdigit():
            highest = max(highest, int(digits))
    if highest > sequence.last_value:
        sequence.last_value = highest
        sequence.save(update_fields=["last_value"])
    return sequence.last_value
