"""Database conflicts become 409s by the violated constraint's name, on SQLite and on
PostgreSQL alike: each row below is written straight to the database, past the services'
friendly pre-checks, as a request that raced past them would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import system_actor
from core.errors import Conflict, CoreErrorCode, conflict_from_constraint, violated_constraint
from doctors.models import EMAIL_UNIQUE as DOCTOR_EMAIL_UNIQUE
from doctors.models import USER_UNIQUE
from doctors.tests.factories import DoctorFactory
from interactions.models import AMENDS_UNIQUE, Interaction
from interactions.tests.factories import InteractionFactory
from notes.models import SIGNATURE_UNIQUE, Signature
from notes.tests.factories import make_note
from outcomes.models import CODE_UNIQUE, Outcome
from patients.models import EMAIL_UNIQUE as PATIENT_EMAIL_UNIQUE
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _violation(write: Callable[[], object]) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def _patient_email() -> IntegrityError:
    PatientFactory.create(email="ann@example.org")
    clash = PatientFactory.build(email="ANN@example.org", mrn="MRN-999999")
    return _violation(clash.save)


def _doctor_email() -> IntegrityError:
    DoctorFactory.create(email="dr@example.org")
    return _violation(lambda: DoctorFactory.create(email="DR@example.org"))


def _doctor_user() -> IntegrityError:
    user = User.objects.create_user("dr-account")
    DoctorFactory.create(user=user)
    return _violation(lambda: DoctorFactory.create(user=user))


def _outcome_code() -> IntegrityError:
    existing = Outcome.objects.get(pk="healthy")
    clash = Outcome(code="healthy", label="Again", severity=existing.severity)
    return _violation(lambda: clash.save(force_insert=True))


def _amends() -> IntegrityError:
    target = InteractionFactory.create()
    InteractionFactory.create(patient=target.patient, amends=target)
    return _violation(lambda: InteractionFactory.create(patient=target.patient, amends=target))


def _signature() -> IntegrityError:
    note = make_note()
    signer = note.author

    def sign() -> Signature:
        return Signature.objects.create(
            note=note, signer=signer, signer_name="A", meaning="review", content_sha256="x"
        )

    sign()
    return _violation(sign)


@pytest.mark.parametrize(
    ("make_violation", "name"),
    [
        (_patient_email, PATIENT_EMAIL_UNIQUE),
        (_doctor_email, DOCTOR_EMAIL_UNIQUE),
        (_doctor_user, USER_UNIQUE),
        (_outcome_code, CODE_UNIQUE),
        (_amends, AMENDS_UNIQUE),
        (_signature, SIGNATURE_UNIQUE),
    ],
)
def test_the_violated_constraint_is_found_by_name(
    make_violation: Callable[[], IntegrityError], name: str
) -> None:
    exc = make_violation()
    assert name in violated_constraint(exc)
    expected = Conflict("clash", code=CoreErrorCode.CONFLICT)
    other = Conflict("other", code=CoreErrorCode.CONFLICT)
    assert conflict_from_constraint(exc, {"some_other_constraint": other, name: expected}) is (
        expected
    )


def test_a_constraint_the_caller_does_not_name_is_re_raised() -> None:
    exc = _patient_email()
    with pytest.raises(IntegrityError) as caught:
        conflict_from_constraint(exc, {DOCTOR_EMAIL_UNIQUE: Conflict("no")})
    assert caught.value is exc


def test_a_check_constraint_is_named_too() -> None:
    patient = PatientFactory.create()
    exc = _violation(lambda: Patient.objects.filter(pk=patient.pk).update(gender="robot"))
    assert "patients_gender_valid" in violated_constraint(exc)


def test_amendment_race_is_409_not_current() -> None:
    """The service's own path: the unique index answers when the status check passed."""
    from interactions.services import interaction_amend

    target = InteractionFactory.create()
    # Another writer amended it without flipping the status (as a racing request would
    # have done between our lock and our insert).
    InteractionFactory.create(patient=target.patient, amends=target)
    with pytest.raises(Conflict) as caught:
        interaction_amend(
            actor=system_actor(), interaction=target, notes="Corrected.", now=timezone.now()
        )
    assert caught.value.error_code == "not_current"
    assert Interaction.objects.filter(amends=target).count() == 1
