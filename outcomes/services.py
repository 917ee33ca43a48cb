"""Every write to an outcome goes through here (API, admin, the data migration)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.errors import Conflict, conflict_from_constraint, conflict_from_protected
from core.updates import UNSET, Unset, model_update, update_fields
from outcomes.errors import OutcomeErrorCode
from outcomes.models import CODE_UNIQUE, Outcome


def _duplicate(code: str) -> Conflict:
    return Conflict(
        f"An outcome with the code '{code}' already exists.", code=OutcomeErrorCode.DUPLICATE_CODE
    )


@transaction.atomic
def outcome_create(
    *,
    code: str,
    label: str,
    severity: int,
    description: str = "",
    is_active: bool = True,
    sort_order: int = 0,
) -> Outcome:
    """Add an outcome. The code is stored lower-case, so ``Critical`` duplicates
    ``critical`` (409 ``duplicate_code``)."""
    code = (code or "").strip().lower()
    outcome = Outcome(
        code=code,
        label=label,
        description=description,
        severity=severity,
        is_active=is_active,
        sort_order=sort_order,
    )
    outcome.full_clean(validate_unique=False, validate_constraints=False)
    if Outcome.objects.filter(code__iexact=code).exists():
        raise _duplicate(code)
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
    code: str | Unset = UNSET,
    label: str | Unset = UNSET,
    description: str | Unset = UNSET,
    severity: int | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort_order: int | Unset = UNSET,
) -> Outcome:
    """Change label, description, severity, activity or order. The code never changes:
    passing a different ``code`` is a 400 ``code_immutable``."""
    if code is not UNSET and (code or "").strip().lower() != outcome.code:
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
    outcome.save()
    return outcome


EDITABLE_FIELDS = tuple(f for f in update_fields(outcome_update) if f != "code")


@transaction.atomic
def outcome_delete(*, outcome: Outcome) -> None:
    """Delete an outcome no interaction uses; otherwise 409 ``has_dependents``."""
    try:
        with transaction.atomic():
            outcome.delete()
    except ProtectedError as exc:
        raise conflict_from_protected(
            exc, what="The outcome", hint="Deactivate it instead."
        ) from exc
