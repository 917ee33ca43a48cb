"""Fixtures for the Django-level summary tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import pytest

from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory
from doctors.tests.factories import DoctorFactory
from patients.models import Patient
from patients.tests.factories import PatientFactory
from summaries.tests.fake_openai import FakeOpenAI

API_KEY = "sk-test-django-7d1e4c9b2a8f6e5d4c3b2a1f0e9d8c7b"

# A patient whose identifiers are distinctive enough to search for in the provider request.
FIRST_NAME = "Philomena"
LAST_NAME = "Quackenbush"
EMAIL = "philomena.quackenbush@example.org"
PHONE = "+14155552671"
DOB = dt.date(1958, 7, 19)


@pytest.fixture
def run_jobs(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> Callable[[], AbstractContextManager[Any]]:
    """``with run_jobs(): client.post(...)`` — what the request queued on commit (the
    task, run eagerly by the test settings) runs when the block exits, as it would after
    the request's commit outside the test transaction."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def patient(db: None) -> Patient:
    return PatientFactory.create(
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        email=EMAIL,
        phone=PHONE,
        date_of_birth=DOB,
        gender="female",
    )


def add_appointment(patient: Patient, *, days: int = 3, reason: str = "") -> Appointment:
    from django.utils import timezone

    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    return AppointmentFactory.create(
        patient=patient,
        doctor=DoctorFactory.create(full_name="Dr. Lindqvist", specialty="Cardiology"),
        start_time=start,
        reason=reason,
    )


@pytest.fixture
def fake_openai(settings: Any) -> Iterator[FakeOpenAI]:
    """A real OpenAI-compatible server on 127.0.0.1, used through OPENAI_BASE_URL."""
    with FakeOpenAI() as server:
        settings.SUMMARY_PROVIDER = "openai"
        settings.OPENAI_API_KEY = API_KEY
        settings.OPENAI_BASE_URL = server.base_url
        settings.SUMMARY_MODEL = "gpt-4o-mini"
        settings.SUMMARY_TIMEOUT_SECONDS = 5.0
        settings.SUMMARY_MAX_RETRIES = 3
        yield server
