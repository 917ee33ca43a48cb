"""Demo notes from ``fixtures/demo_notes/`` (synthetic; written by make_demo_notes.py).

Every note has a fixed id derived from its file name, so a second run skips what is
there. Notes go through the same services as the API: typed files as typed notes, the
PDF and the scanned image as uploads. Each note is read at once (so the demo has its
structured data even before a worker runs), and the first admission note and the
discharge summaries are signed by the demo provider.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from accounts.demo import password_for
from notes.models import Note, SignatureMeaning
from notes.processing import note_process
from notes.services import (
    note_create_from_text,
    note_create_from_upload,
    note_sign,
)
from patients.models import Patient

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo_notes"
AUTHOR = "provider"  # the demo provider from accounts.demo
UPLOADED = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
SIGNED = ("01-haddad-admission-hp.md", "05-haddad-discharge-summary.md", "12-nguyen-discharge.txt")


def demo_patient_id(number: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clinic-demo-patient-{number}")


def demo_note_id(file_name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clinic-demo-note-{file_name}")


def _create(entry: dict[str, Any], patient: Patient, author: User, now: datetime) -> Note:
    path = DEMO_DIR / entry["file"]
    taken_at = now - timedelta(hours=entry["hours_ago"])
    note_id = demo_note_id(entry["file"])
    if path.suffix in UPLOADED:
        return note_create_from_upload(
            patient=patient,
            actor=author,
            taken_at=taken_at,
            data=path.read_bytes(),
            file_name=path.name,
            declared_type=UPLOADED[path.suffix],
            note_type=entry.get("note_type"),
            note_id=note_id,
        )
    return note_create_from_text(
        patient=patient,
        actor=author,
        taken_at=taken_at,
        content=path.read_text(encoding="utf-8"),
        note_type=entry.get("note_type"),
        note_id=note_id,
    )


def seed(*, now: datetime) -> str:
    author = User.objects.filter(username=AUTHOR).first()
    if author is None:
        return "skipped (no demo provider user)"
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    created = skipped = 0
    for entry in manifest:
        patient = Patient.objects.filter(pk=demo_patient_id(entry["patient"])).first()
        if patient is None or Note.objects.filter(pk=demo_note_id(entry["file"])).exists():
            skipped += 1
            continue
        note = _create(entry, patient, author, now)
        note = note_process(note_id=note.pk) or note
        # The provider's password is known only when this run set it (under production
        # settings an existing provider keeps a password nobody here knows).
        password = password_for(AUTHOR)
        if entry["file"] in SIGNED and password is not None:
            note_sign(
                note=note,
                actor=author,
                password=password,
                meaning=SignatureMeaning.AUTHORSHIP,
            )
        created += 1
    return f"{created} notes created, {skipped} skipped (already there or patient absent)"
