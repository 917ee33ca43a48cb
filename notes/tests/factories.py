from __future__ import annotations

import datetime as dt
from typing import Any, cast

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from accounts.services import user_upsert
from core.permissions import Role
from notes.models import Note
from notes.processing import note_process
from notes.services import note_create_from_text
from patients.models import Patient
from patients.tests.factories import PatientFactory

SOAP_NOTE = (
    "S: 67M with exertional chest pressure x2 days. Denies fever.\n"
    "O: BP 142/88, HR 92, T 99.1F, SpO2 96% RA, Wt 180 lb.\n"
    "Meds: metoprolol 25 mg PO BID, aspirin 81 mg daily. Lisinopril stopped.\n"
    "Allergies: penicillin (rash)\n"
    "A/P: 1. Hypertension. 2. No PE."
)


def provider_user(username: str = "note-author") -> User:
    return user_upsert(
        username=username,
        role=Role.PROVIDER,
        password="pw-for-tests-1",
        first_name="Paula",
        last_name="Provider",
    )


class NoteFactory(factory.Factory[Note]):
    """A typed note created and read through the real services (as the task would)."""

    class Meta:
        model = Note

    patient = factory.LazyFunction(PatientFactory)
    author = factory.LazyFunction(provider_user)
    taken_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    content = SOAP_NOTE
    note_type = None

    @classmethod
    def _create(cls, model_class: type[Note], *args: Any, **kwargs: Any) -> Note:
        note = note_create_from_text(actor=kwargs.pop("author"), **kwargs)
        processed = note_process(note_id=note.pk)
        assert processed is not None
        return processed


def make_note(**kwargs: Any) -> Note:
    """``NoteFactory(...)`` typed as the note it returns."""
    return cast(Note, NoteFactory(**kwargs))


def make_patient(**kwargs: Any) -> Patient:
    return cast(Patient, PatientFactory(**kwargs))
