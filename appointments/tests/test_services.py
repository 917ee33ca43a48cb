from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from appointments.hours import clinic_zone
from appointments.models import Appointment, AppointmentStatus
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
)
from appointments.tests.factories import AppointmentFactory, PatientFactory
from appointments.tests.helpers import at, future_weekday
from core.actors import system_actor
from core.errors import Conflict
from doctors.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


def book(**kwargs):
    kwargs.setdefault("patient", PatientFactory.create())
    kwargs.setdefault("doctor", DoctorFactory.create())
    kwargs.setdefault("duration_minutes", 30)
    kwargs.setdefault("actor", system_actor())
    return appointment_book(**kwargs)


@pytest.fixture
def day():
    return future_weekday()


def test_booking_stores_end_time_as_start_plus_duration(day):
    appointment = book(start_time=at(day, 9), duration_minutes=45)
    appointment.refresh_from_db()
    assert appointment.end_time - appointment.start_time == timedelta(minutes=45)
    assert appointment.status == AppointmentStatus.SCHEDULED


@pytest.mark.parametrize(("minutes", "ok"), [(14, False), (15, True), (180, True), (181, False)])
def test_duration_boundaries(day, minutes, ok):
    if ok:
        assert book(start_time=at(day, 9), duration_minutes=minutes).duration_minutes == minutes
    else:
        with pytest.raises(ValidationError) as exc:
            book(start_time=at(day, 9), duration_minutes=minutes)
        assert "duration_minutes" in exc.value.message_dict
        assert not Appointment.objects.exists()


def test_start_exactly_now_is_refused(day):
    now = at(day, 9)
    with pytest.raises(ValidationError) as exc:
        book(start_time=now, now=now)
    assert exc.value.message_dict["start_time"] == ["The start time must be in the future."]


def test_start_a_microsecond_after_now_is_accepted(day):
    now = at(day, 9)
    assert book(start_time=now + timedelta(microseconds=1), now=now).pk


def test_start_in_the_past_is_refused():
    with pytest.raises(ValidationError):
        book(start_time=timezone.now() - timedelta(minutes=5))


def test_inactive_doctor_cannot_be_booked(day):
    doctor = DoctorFactory.create(is_active=False)
    with pytest.raises(Conflict) as exc:
        book(doctor=doctor, start_time=at(day, 9))
    assert exc.value.error_code == "doctor_inactive"


def test_back_to_back_appointments_do_not_conflict(day):
    doctor = DoctorFactory.create()
    book(doctor=doctor, start_time=at(day, 9), duration_minutes=30)
    assert book(doctor=doctor, start_time=at(day, 9, 30)).pk
    assert book(doctor=doctor, start_time=at(day, 8, 30)).pk


def test_overlap_by_one_minute_is_a_doctor_conflict_with_suggestions(day):
    doctor = DoctorFactory.create()
    first = book(doctor=doctor, start_time=at(day, 9), duration_minutes=30)
    with pytest.raises(Conflict) as exc:
        book(doctor=doctor, start_time=at(day, 9, 29))
    assert exc.value.error_code == "doctor_conflict"
    assert exc.value.context["conflicting_appointment_id"] == str(first.pk)
    # The next grid slots after 09:29 where 30 minutes fit.
    assert exc.value.context["next_available"] == [
        at(day, 9, 30).isoformat(),
        at(day, 9, 45).isoformat(),
        at(day, 10).isoformat(),
    ]
    assert Appointment.objects.count() == 1


def test_suggestions_stay_inside_clinic_hours_and_skip_the_weekend():
    # Friday 17:30-18:00 is taken; the next free 30-minute starts are Monday morning.
    friday = future_weekday()
    while friday.weekday() != 4:
        friday += timedelta(days=1)
    doctor = DoctorFactory.create()
    book(doctor=doctor, start_time=at(friday, 17, 30))
    with pytest.raises(Conflict) as exc:
        book(doctor=doctor, start_time=at(friday, 17, 30))
    monday = friday + timedelta(days=3)
    assert exc.value.context["next_available"] == [
        at(monday, 8).isoformat(),
        at(monday, 8, 15).isoformat(),
        at(monday, 8, 30).isoformat(),
    ]


def test_suggestions_are_never_in_the_past(day):
    doctor = DoctorFactory.create()
    book(doctor=doctor, start_time=at(day, 9), duration_minutes=180)
    now = at(day, 8, 50)
    with pytest.raises(Conflict) as exc:
        book(doctor=doctor, start_time=at(day, 9), now=now)
    starts = [datetime.fromisoformat(s) for s in exc.value.context["next_available"]]
    assert starts == [at(day, 12), at(day, 12, 15), at(day, 12, 30)]
    assert all(s > now for s in starts)


def test_same_patient_with_two_doctors_at_once_is_a_patient_conflict(day):
    patient = PatientFactory.create()
    first = book(patient=patient, start_time=at(day, 9))
    with pytest.raises(Conflict) as exc:
        book(patient=patient, doctor=DoctorFactory.create(), start_time=at(day, 9, 15))
    assert exc.value.error_code == "patient_conflict"
    assert exc.value.context["conflicting_appointment_id"] == str(first.pk)


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW]
)
def test_appointments_that_are_not_scheduled_never_block(day, status):
    doctor = DoctorFactory.create()
    AppointmentFactory.create(
        doctor=doctor, start_time=at(day, 9), status=status, cancelled_at=timezone.now()
    )
    assert book(doctor=doctor, start_time=at(day, 9)).pk


def test_a_cancelled_slot_is_bookable_again(day):
    doctor = DoctorFactory.create()
    first = book(doctor=doctor, start_time=at(day, 9))
    appointment_cancel(actor=system_actor(), appointment=first, reason="Patient is travelling")
    second = book(doctor=doctor, start_time=at(day, 9))
    assert Appointment.objects.scheduled().get() == second


def test_times_in_different_offsets_are_compared_as_instants():
    # 10:00+05:30 is 04:30Z.
    day = future_weekday()
    doctor = DoctorFactory.create()
    book(
        doctor=doctor,
        start_time=datetime.combine(day, datetime.min.time(), UTC).replace(hour=4, minute=30),
    )
    india = dt_timezone(timedelta(hours=5, minutes=30))
    with pytest.raises(Conflict) as exc:
        book(
            doctor=doctor,
            start_time=datetime.combine(day, datetime.min.time(), india).replace(hour=10),
        )
    assert exc.value.error_code == "doctor_conflict"


def test_reschedule_overlapping_its_own_old_slot_is_allowed(day):
    appointment = book(start_time=at(day, 9), duration_minutes=60)
    moved = appointment_reschedule(
        actor=system_actor(), appointment=appointment, start_time=at(day, 9, 15)
    )
    assert (moved.start_time, moved.end_time) == (at(day, 9, 15), at(day, 10, 15))


def test_reschedule_rechecks_every_rule(day):
    doctor = DoctorFactory.create()
    other = book(doctor=doctor, start_time=at(day, 11))
    appointment = book(doctor=doctor, start_time=at(day, 9))
    with pytest.raises(Conflict) as exc:
        appointment_reschedule(
            actor=system_actor(), appointment=appointment, start_time=at(day, 11, 15)
        )
    assert exc.value.context["conflicting_appointment_id"] == str(other.pk)
    with pytest.raises(ValidationError):
        appointment_reschedule(actor=system_actor(), appointment=appointment, duration_minutes=181)
    with pytest.raises(ValidationError):
        appointment_reschedule(
            actor=system_actor(),
            appointment=appointment,
            start_time=timezone.now() - timedelta(hours=1),
        )
    with pytest.raises(Conflict) as exc:
        appointment_reschedule(
            actor=system_actor(),
            appointment=appointment,
            doctor=DoctorFactory.create(is_active=False),
        )
    assert exc.value.error_code == "doctor_inactive"
    busy_patient = book(start_time=at(day, 9)).patient
    with pytest.raises(Conflict) as exc:
        appointment_reschedule(actor=system_actor(), appointment=appointment, patient=busy_patient)
    assert exc.value.error_code == "patient_conflict"
    appointment.refresh_from_db()
    assert appointment.start_time == at(day, 9)
    assert appointment.doctor == doctor


def test_reschedule_of_a_cancelled_appointment_is_refused(day):
    appointment = book(start_time=at(day, 9))
    appointment_cancel(actor=system_actor(), appointment=appointment)
    with pytest.raises(Conflict) as exc:
        appointment_reschedule(
            actor=system_actor(), appointment=appointment, start_time=at(day, 10)
        )
    assert exc.value.error_code == "already_cancelled"


def test_cancelling_twice_is_a_conflict(day):
    appointment = book(start_time=at(day, 9))
    cancelled = appointment_cancel(actor=system_actor(), appointment=appointment, reason=" Sick ")
    assert cancelled.cancellation_reason == "Sick"
    assert cancelled.cancelled_at is not None
    with pytest.raises(Conflict) as exc:
        appointment_cancel(actor=system_actor(), appointment=appointment)
    assert exc.value.error_code == "already_cancelled"


@pytest.mark.parametrize(
    ("service", "status"),
    [
        (appointment_complete, AppointmentStatus.COMPLETED),
        (appointment_mark_no_show, AppointmentStatus.NO_SHOW),
    ],
)
def test_complete_and_no_show_only_once_started(day, service, status):
    appointment = book(start_time=at(day, 9))
    with pytest.raises(Conflict) as exc:
        service(appointment=appointment, actor=system_actor(), now=at(day, 8, 59))
    assert exc.value.error_code == "not_started"
    assert service(appointment=appointment, actor=system_actor(), now=at(day, 9)).status == status
    with pytest.raises(Conflict) as exc:
        service(appointment=appointment, actor=system_actor(), now=at(day, 9, 5))
    assert exc.value.error_code == "not_scheduled"


@override_settings(CLINIC_TIME_ZONE="Asia/Kolkata")
def test_suggestions_follow_the_clinic_time_zone():
    day = future_weekday()
    doctor = DoctorFactory.create()
    book(doctor=doctor, start_time=at(day, 8), duration_minutes=60)
    with pytest.raises(Conflict) as exc:
        book(doctor=doctor, start_time=at(day, 8))
    first = datetime.fromisoformat(exc.value.context["next_available"][0])
    assert first == at(day, 9)
    assert first.astimezone(clinic_zone()).utcoffset() == timedelta(hours=5, minutes=30)
