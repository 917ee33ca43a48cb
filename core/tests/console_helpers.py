"""Shared set-up for the console tests: the seeded role accounts and one record of
every kind, so every changelist and change view has something to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.demo import DEMO_USERS, seed
from appointments.models import Appointment
from appointments.services import appointment_book
from doctors.models import Doctor
from doctors.tests.factories import DoctorFactory
from interactions.models import Interaction
from interactions.services import interaction_record
from notes.models import Note
from notes.tests.factories import make_note
from outcomes.models import Outcome
from patients.models import Patient
from patients.tests.factories import PatientFactory
from summaries.models import Summary
from summaries.tests.factories import SummaryFactory

PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}


def login(username: str) -> Client:
    """A browser-like client logged in through the console's login form."""
    from django.urls import reverse

    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": PASSWORDS[username], "next": reverse("admin:index")},
    )
    assert response.status_code == 302, response.content[:2000]
    return client


@dataclass
class Clinic:
    patient: Patient
    doctor: Doctor
    appointment: Appointment
    interaction: Interaction
    note: Note
    summary: Summary
    outcome: Outcome
    users: dict[str, User]


def next_weekday_at(hour: int, minute: int = 0, *, days_ahead: int = 1) -> Any:
    """A clinic-hours start (default opening hours mon-fri 08:00-18:00, UTC)."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return timezone.make_aware(
        datetime(day.year, day.month, day.day, hour, minute),
        timezone.get_current_timezone(),
    )


def build_clinic() -> Clinic:
    seed(now=timezone.now())
    users = {u.username: u for u in User.objects.filter(username__in=PASSWORDS)}
    patient = cast(Patient, PatientFactory(first_name="Maria", last_name="Hadad"))
    doctor = cast(Doctor, DoctorFactory(full_name="Dr. Ana Ortiz"))
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        start_time=next_weekday_at(10),
        duration_minutes=30,
        actor=users["provider"],
        reason="Check-up",
    )
    outcome = Outcome.objects.get(code="monitor")
    interaction = interaction_record(
        patient=patient,
        outcome=outcome,
        notes="Blood pressure high.",
        actor=users["provider"],
    )
    note = make_note(patient=patient, author=users["provider"])
    summary = cast(Summary, SummaryFactory(patient=patient))
    return Clinic(patient, doctor, appointment, interaction, note, summary, outcome, users)
