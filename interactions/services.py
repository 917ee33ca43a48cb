"""Every write to an interaction goes through here (API, admin, demo data).

Rules, in the order they are checked:

1. ``occurred_at`` is timezone-aware and not later than now plus a 5-minute clock-skew
   allowance (400 on ``occurred_at``);
2. a new outcome must be active (400 ``outcome_inactive`` on ``outcome``); an amendment
   may keep the inactive outcome of the entry it corrects;
3. the appointment, if any, belongs to the same patient (400 on ``appointment_id``);
4. notes are at most 20,000 characters (400 on ``notes``);
5. only a ``current`` entry can be amended or retracted (409 ``not_current``).

Every service locks the patient row first, then (for corrections) the target entry, so
concurrent writes for one patient are serialised and the patient's maintained
``latest_outcome`` always reflects every committed entry. Two concurrent amendments of
one entry cannot both succeed: the second waits for the lock, then finds the entry
``amended``; the unique index on ``amends`` backs this up at the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import Appointment
from core import metrics
from core.errors import Conflict, CoreErrorCode, conflict_from_constraint
from core.updates import UNSET, Unset, given, update_fields
from core.validators import validate_not_before_birth, validate_not_future
from doctors.models import Doctor
from interactions.errors import InteractionErrorCode
from interactions.models import AMENDS_UNIQUE, Interaction, InteractionStatus
from outcomes.models import Outcome
from patients.models import LatestOutcome, Patient


def _lock_patient(patient_id: uuid.UUID) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def _validate(interaction: Interaction, *, now: datetime, previous_outcome: str | None) -> None:
    """Rules 1-4; call before saving ``interaction``."""
    occurred_at = interaction.occurred_at
    if timezone.is_naive(occurred_at):
        raise ValidationError(
            {
                "occurred_at": ValidationError(
                    "Include a UTC offset; a time without one is ambiguous.",
                    code=CoreErrorCode.NAIVE,
                )
            }
        )
    validate_not_future(
        occurred_at,
        field="occurred_at",
        message="An interaction cannot be recorded for the future.",
        now=now,
    )
    validate_not_before_birth(
        occurred_at,
        born=interaction.patient.earliest_clinical_time(),
        field="occurred_at",
        message="An interaction cannot have occurred before the patient's date of birth.",
    )
    outcome: Outcome = interaction.outcome
    if not outcome.is_active and outcome.code != previous_outcome:
        raise ValidationError(
            {
                "outcome": ValidationError(
                    f"The outcome '{outcome.code}' is inactive and cannot be used for new "
                    "interactions.",
                    code=InteractionErrorCode.OUTCOME_INACTIVE,
                )
            }
        )
    appointment: Appointment | None = interaction.appointment
    if appointment is not None and appointment.patient_id != interaction.patient_id:
        raise ValidationError(
            {
                "appointment_id": ValidationError(
                    "The appointment belongs to another patient.",
                    code=InteractionErrorCode.OTHER_PATIENT,
                )
            }
        )
    interaction.notes = (interaction.notes or "").strip()
    interaction.full_clean(validate_constraints=False, validate_unique=False)


def interaction_check(*, interaction: Interaction, now: datetime | None = None) -> None:
    """Rules 1-4 for a new ``interaction`` without writing: raises what
    :func:`interaction_record` would (forms show it on the form)."""
    _validate(interaction, now=now or timezone.now(), previous_outcome=None)


def refresh_latest_outcome(*, patient_id: uuid.UUID) -> None:
    """Recompute the patient's ``latest_outcome`` from their current interactions.

    Call inside the writing transaction, with the patient row locked. Recomputing (one
    indexed query) rather than patching keeps it right after amendments that move
    ``occurred_at`` and after retractions.
    """
    latest = (
        Interaction.objects.current()
        .filter(patient_id=patient_id)
        .newest_first()
        .values("outcome_id", "occurred_at")
        .first()
    )
    if latest is None:
        LatestOutcome.objects.filter(patient_id=patient_id).delete()
        return
    # One INSERT ... ON CONFLICT DO UPDATE on both databases.
    LatestOutcome.objects.bulk_create(
        [LatestOutcome(patient_id=patient_id, **latest)],
        update_conflicts=True,
        unique_fields=["patient"],
        update_fields=["outcome", "occurred_at"],
    )


def latest_outcome_rebuild(*, patient_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Recompute ``latest_outcome`` for the given patients (default: all), after writes
    that bypassed the services, such as ``loaddata`` of patients, which resets the
    maintained columns. Returns how many patients were refreshed."""
    queryset = Patient.objects.order_by("pk")
    if patient_ids is not None:
        queryset = queryset.filter(pk__in=list(patient_ids))
    count = 0
    for patient_id in queryset.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            _lock_patient(patient_id)
            refresh_latest_outcome(patient_id=patient_id)
        count += 1
    return count


@transaction.atomic
def interaction_record(
    *,
    patient: Patient,
    outcome: Outcome,
    notes: str = "",
    occurred_at: datetime | None = None,
    doctor: Doctor | None = None,
    appointment: Appointment | None = None,
    actor: User,
    now: datetime | None = None,
    pk: uuid.UUID | None = None,
) -> Interaction:
    """Document a contact with ``patient``. ``occurred_at`` defaults to now; ``pk`` fixes
    the id (demo data), otherwise a random UUID."""
    now = now or timezone.now()
    _lock_patient(patient.pk)
    interaction = Interaction(
        patient=patient,
        outcome=outcome,
        notes=notes,
        occurred_at=occurred_at or now,
        doctor=doctor,
        appointment=appointment,
        recorded_by=actor,
    )
    if pk is not None:
        interaction.pk = pk
    _validate(interaction, now=now, previous_outcome=None)
    interaction.save(force_insert=True)
    refresh_latest_outcome(patient_id=patient.pk)
    code = interaction.outcome_id
    metrics.after_commit(lambda: metrics.interactions_recorded.labels(outcome=code).inc())
    return interaction


def _lock_current(interaction: Interaction, *, action: str) -> Interaction:
    """Lock the patient, then the entry, and check that the entry is still current."""
    _lock_patient(interaction.patient_id)
    target = (
        Interaction.objects.select_for_update(of=("self",))
        .select_related("patient", "outcome", "doctor", "appointment")
        .get(pk=interaction.pk)
    )
    if not target.is_current:
        raise Conflict(
            f"Only a current entry can be {action}; this one is "
            f"{target.get_status_display().lower()}.",
            code=InteractionErrorCode.NOT_CURRENT,
            status=target.status,
        )
    return target


@transaction.atomic
def interaction_amend(
    *,
    interaction: Interaction,
    outcome: Outcome | Unset = UNSET,
    notes: str | Unset = UNSET,
    occurred_at: datetime | Unset = UNSET,
    doctor: Doctor | Unset | None = UNSET,
    appointment: Appointment | Unset | None = UNSET,
    actor: User,
    now: datetime | None = None,
    pk: uuid.UUID | None = None,
) -> Interaction:
    """Correct a current entry: a new entry carrying the fields given (any of outcome,
    notes, occurred_at, doctor, appointment; the rest is copied) ``amends`` it, and the
    old one becomes ``amended``. Returns the new entry."""
    now = now or timezone.now()
    target = _lock_current(interaction, action="amended")
    values: dict[str, Any] = {name: getattr(target, name) for name in AMENDABLE_FIELDS}
    values.update(
        given(
            {
                "outcome": outcome,
                "notes": notes,
                "occurred_at": occurred_at,
                "doctor": doctor,
                "appointment": appointment,
            }
        )
    )
    amendment = Interaction(
        patient=target.patient,
        amends=target,
        recorded_by=actor,
        **values,
    )
    if pk is not None:
        amendment.pk = pk
    _validate(amendment, now=now, previous_outcome=target.outcome_id)
    try:
        with transaction.atomic():
            amendment.save(force_insert=True)
    except IntegrityError as exc:
        already_amended = Conflict(
            "This entry has already been amended.",
            code=InteractionErrorCode.NOT_CURRENT,
            status=InteractionStatus.AMENDED,
        )
        raise conflict_from_constraint(exc, {AMENDS_UNIQUE: already_amended}) from exc
    target.status = InteractionStatus.AMENDED
    target.save(update_fields=["status"])
    refresh_latest_outcome(patient_id=target.patient_id)
    return amendment


AMENDABLE_FIELDS = update_fields(interaction_amend)


@transaction.atomic
def interaction_retract(
    *,
    interaction: Interaction,
    reason: str,
    actor: User,
    now: datetime | None = None,
) -> Interaction:
    """Mark a current entry as entered in error, with the reason; nothing is deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Say why the entry is retracted.", code=CoreErrorCode.REQUIRED
                )
            }
        )
    target = _lock_current(interaction, action="retracted")
    target.status = InteractionStatus.ENTERED_IN_ERROR
    target.retraction_reason = reason
    target.retracted_at = now or timezone.now()
    target.retracted_by = actor
    target.full_clean(validate_constraints=False, validate_unique=False)
    target.save(update_fields=["status", "retraction_reason", "retracted_at", "retracted_by"])
    refresh_latest_outcome(patient_id=target.patient_id)
    return target
