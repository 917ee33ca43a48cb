from __future__ import annotations

from datetime import UTC

import pytest

from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_book
from appointments.tests.factories import PatientFactory
from appointments.tests.helpers import at, future_weekday
from core.actors import system_actor
from doctors.models import Doctor
from doctors.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/appointments/appointment/add/"


def form(patient, doctor, start):
    start = start.astimezone(UTC)
    return {
        "patient": str(patient.pk),
        "doctor": str(doctor.pk),
        "start_time_0": start.date().isoformat(),
        "start_time_1": start.strftime("%H:%M:%S"),
        "duration_minutes": "30",
        "reason": "",
    }


def test_admin_books_through_the_service(admin_client):
    patient, doctor = PatientFactory.create(), DoctorFactory.create()
    response = admin_client.post(ADD, form(patient, doctor, at(future_weekday(), 9)))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.end_time == at(future_weekday(), 9, 30)
    assert appointment.created_by is not None


def test_admin_shows_the_api_conflict_message(admin_client):
    doctor = DoctorFactory.create()
    day = future_weekday()
    appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 9),
        duration_minutes=30,
    )
    response = admin_client.post(ADD, form(PatientFactory.create(), doctor, at(day, 9, 15)))
    assert response.status_code == 200
    assert (
        "The doctor already has an appointment that overlaps this time."
        in response.content.decode()
    )
    assert Appointment.objects.count() == 1


def test_admin_reschedule_conflict_is_a_form_error(admin_client):
    doctor = DoctorFactory.create()
    day = future_weekday()
    appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 9),
        duration_minutes=30,
    )
    moving = appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 11),
        duration_minutes=30,
    )
    url = f"/admin/appointments/appointment/{moving.pk}/change/"
    response = admin_client.post(url, form(moving.patient, doctor, at(day, 9)))
    assert response.status_code == 200
    assert "overlaps this time" in response.content.decode()
    moving.refresh_from_db()
    assert moving.start_time == at(day, 11)


def test_admin_cancel_action(admin_client):
    appointment = appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=DoctorFactory.create(),
        start_time=at(future_weekday(), 9),
        duration_minutes=30,
    )
    response = admin_client.post(
        "/admin/appointments/appointment/",
        {
            "action": "cancel",
            "_selected_action": [str(appointment.pk)],
            "apply": "1",
            "reason": "Clinic closed",
        },
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_admin_duplicate_doctor_email_is_a_form_error(admin_client):
    DoctorFactory.create(email="taken@clinic.example")
    response = admin_client.post(
        "/admin/doctors/doctor/add/",
        {"full_name": "Dr. X", "specialty": "GP", "email": "TAKEN@clinic.example", "phone": ""},
    )
    assert response.status_code == 200
    assert "A doctor with this email already exists." in response.content.decode()
    assert Doctor.objects.count() == 1


def test_admin_toggle_status_lists_future_appointments(admin_client):
    doctor = DoctorFactory.create()
    appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(future_weekday(), 9),
        duration_minutes=30,
    )
    response = admin_client.post(
        "/admin/doctors/doctor/",
        {"action": "toggle_status", "_selected_action": [str(doctor.pk)]},
        follow=True,
    )
    assert "1 future appointment(s)" in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.is_active is False
