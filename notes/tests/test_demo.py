"""The demo notes: fixtures on disk, seeding through the services, idempotence."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from notes.demo import DEMO_DIR, demo_note_id, seed
from notes.models import ContentSource, ExtractionStatus, Note, NoteStatus
from notes.reading import tesseract_path

pytestmark = pytest.mark.django_db


def test_fixture_files_cover_the_story() -> None:
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    assert len(manifest) >= 12
    for entry in manifest:
        assert (DEMO_DIR / entry["file"]).is_file(), entry["file"]
    suffixes = Counter(entry["file"].rsplit(".", 1)[1] for entry in manifest)
    assert suffixes["pdf"] == 1 and suffixes["png"] == 1
    assert suffixes["txt"] + suffixes["md"] >= 12


def test_seed_creates_read_and_signed_notes_once() -> None:
    call_command("seed_demo", verbosity=0)
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    assert Note.objects.count() == len(manifest)
    types = set(Note.objects.values_list("note_type", flat=True))
    assert {"admission", "progress", "consult", "discharge", "procedure"} <= types
    assert Note.objects.filter(status=NoteStatus.SIGNED).count() == 3
    assert Note.objects.exclude(sections=None).count() >= 4

    pdf = Note.objects.get(pk=demo_note_id("07-smith-follow-up.pdf"))
    assert pdf.content_source == ContentSource.PDF_TEXT
    assert pdf.structured_data["vitals"]["systolic_bp"]["value"] == 134
    scan = Note.objects.get(pk=demo_note_id("11-nguyen-scanned-progress.png"))
    if tesseract_path():
        assert scan.extraction_status == ExtractionStatus.DONE
        assert scan.content_source == ContentSource.OCR
    else:
        assert scan.extraction_status == ExtractionStatus.NEEDS_TRANSCRIPTION

    assert seed(now=timezone.now()).startswith("0 notes created")
    assert Note.objects.count() == len(manifest)


def test_seed_without_the_demo_provider_does_nothing() -> None:
    assert seed(now=timezone.now()) == "skipped (no demo provider user)"
