"""Every write to an outcome goes through here (API, admin, the data migration)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.actors import record_actor
from core.errors import Conflict, conflict_from_constraint, conflict_from_protected
from core.updates import UNSET, Unset, model_update, update_fields
from outcomes.errors import OutcomeErrorCode
from outcomes.models import CODE_UNIQUE, Outcome


def _duplicate(code: str) -> Conflict:
    return Conflict(
        f"An outcome with the code '{code}' already exists.", code=OutcomeErrorCode.DUPLICATE_CODE
    )


def normalise_code(code: str | None) -> str:
    """Codes are stored stripped and lower-case, so ``Critical`` duplicates ``critical``."""
    return (code or "").strip().lower()


def outcome_check(*, outcome: Outcome) -> None:
    """Check a new outcome without writing: raises exactly what :func:`outcome_create`
    would before the database is asked (400s, 409 ``duplicate_code``). Forms call it to
    show the error on the form."""
    outcome.full_clean(validate_unique=False, validate_constraints=False)
    if Outcome.objects.filter(code__iexact=outcome.code).exists():
        raise _duplicate(outcome.code)


@transaction.atomic
def outcome_create(
    *,
    actor: User,
    code: str,
    label: str,
    severity: int,
    description: str = "",
    is_active: bool = True,
    sort_order: int = 0,
) -> Outcome:
    """Add an outcome. The code is stored lower-case, so ``Critical`` duplicates
    ``critical`` (409 ``duplicate_code``)."""
    code = normalise_code(code)
    outcome = Outcome(
        code=code,
        label=label,
        description=description,
        severity=severity,
        is_active=is_active,
        sort_order=sort_order,
    )
    outcome_check(outcome=outcome)
    record_actor(outcome, actor)
    try:
        with transaction.atomic():
            # force_insert: with a natural primary key, save() would otherwise update a
            # row created concurrently instead of failing.
            outcome.save(force_insert=True)
    except IntegrityError as exc:
        raise conflict_from_constraint(exc, {CODE_UNIQUE: _duplicate(code)}) from exc
    return outcome


@transaction.atomic
def outcome_update(
    *,
    outcome: Outcome,
    actor: User,
    code: str | Unset = UNSET,
    label: str | Unset = UNSET,
    description: str | Unset = UNSET,
    severity: int | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort_order: int | Unset = UNSET,
) -> Outcome:
    """Change label, description, severity, activity or order. The code never changes:
    passing a different ``code`` is a 400 ``code_immutable``."""
    if code is not UNSET and normalise_code(code) != outcome.code:
        raise ValidationError(
            {
                "code": ValidationError(
                    "The code of an outcome cannot change; create a new outcome and "
                    "deactivate this one instead.",
                    code=OutcomeErrorCode.CODE_IMMUTABLE,
                )
            }
        )
    model_update(
        instance=outcome,
        data={
            "label": label,
            "description": description,
            "severity": severity,
            "is_active": is_active,
            "sort_order": sort_order,
        },
    )
    outcome.full_clean(validate_unique=False, validate_constraints=False)
    record_actor(outcome, actor)
    outcome.save()
    return outcome


EDITABLE_FIELDS = tuple(f for f in update_fields(outcome_update) if f != "code")


@transaction.atomic
def outcome_delete(*, outcome: Outcome, actor: User) -> None:
    """Delete an outcome no interaction uses; otherwise 409 ``has_dependents``."""
    record_actor(outcome, actor)
    try:
        with transaction.atomic():
            outcome.delete()
    except ProtectedError as exc:
        raise conflict_from_protected(
            exc, what="The outcome", hint="Deactivate it instead."
        ) from exc
