"""reprocess_notes: older readings are re-read, signed text stays, the re-read is recorded."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from notes.extraction import ENGINE_VERSION
from notes.models import Note
from notes.services import note_sign
from notes.tests.factories import make_note, provider_user
from patients.models import Patient

pytestmark = pytest.mark.django_db

# Read by engine 1.x: one paragraph of inline SOAP labels gave no sections and no diagnoses.
INLINE = (
    "S: follow-up for hypertension. O: BP 138/86, HR 72. A: essential hypertension. "
    "P: continue lisinopril 10 mg PO daily."
)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("reprocess_notes", *args, stdout=out)
    return out.getvalue()


def _as_if_read_by_an_old_engine(note: Note) -> None:
    Note.objects.filter(pk=note.pk).update(
        sections=None,
        structured_data={"vitals": {}, "medications": [], "diagnoses": []},
    )


def test_old_readings_are_re_read_and_signed_text_is_unchanged(patient: Patient) -> None:
    author = provider_user()
    signed = make_note(patient=patient, author=author, content=INLINE)
    note_sign(note=signed, actor=author, password="pw-for-tests-1", meaning="authorship")
    current = make_note(patient=patient, author=author, content="Progress note. HR 70.")
    _as_if_read_by_an_old_engine(signed)
    before = Note.objects.get(pk=signed.pk)
    untouched = Note.objects.get(pk=current.pk).structured_data

    assert "1 note(s) would be re-read" in run("--since", ENGINE_VERSION, "--dry-run")
    assert Note.objects.get(pk=signed.pk).structured_data == before.structured_data

    assert f"1 note(s) re-read with engine {ENGINE_VERSION} (1 signed" in run("--since", "2.0")
    after = Note.objects.get(pk=signed.pk)
    assert after.content == before.content and after.is_signed
    assert after.content_sha256 == before.content_sha256
    assert [d["text"] for d in after.structured_data["diagnoses"]] == ["essential hypertension"]
    assert after.sections is not None and "assessment" in after.sections
    assert after.structured_data["engine_version"] == ENGINE_VERSION
    assert after.structured_data["reprocessed"]["from_engine_version"] == "1.0"
    assert Note.objects.get(pk=current.pk).structured_data == untouched  # already current

    assert "0 note(s) re-read" in run()  # nothing older than the current version is left


def test_since_must_be_a_version() -> None:
    with pytest.raises(CommandError, match="--since must look like"):
        run("--since", "latest")
