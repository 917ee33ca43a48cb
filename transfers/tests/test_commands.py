"""The import_* and export_* management commands."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from audit.recorder import AuditUnavailable
from audit.tests.test_transactions import audit_table_refuses_inserts  # noqa: F401 (fixture)
from interactions.models import Interaction
from patients.models import Patient
from patients.tests.factories import PatientFactory
from transfers.cli import Progress
from transfers.tests.test_jobs import patient_rows

pytestmark = pytest.mark.django_db


def test_import_then_export_patients(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(patient_rows(6000))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_patients", str(source), "--dry-run", stdout=out, stderr=err)
    assert Patient.objects.count() == 0
    assert "Would be: 6000 rows (csv): 6000 created" in out.getvalue()

    call_command("import_patients", str(source), stdout=out, stderr=err)
    assert Patient.objects.count() == 6000
    # Not a terminal: plain progress lines, one per 5,000 rows and the last.
    lines = [x for x in err.getvalue().splitlines() if x.startswith("Validating patients")]
    assert [x.split(": ")[1].split(" rows")[0] for x in lines[-2:]] == [
        "5,000/6,000",
        "6,000/6,000",
    ]

    target = tmp_path / "out.csv"
    call_command(
        "export_patients",
        "--output",
        str(target),
        "--fields",
        "mrn,first_name",
        stdout=out,
        stderr=err,
    )
    exported = target.read_text().splitlines()
    assert exported[0] == "mrn,first_name"
    assert len(exported) == 6001
    assert "Wrote 6000 patients" in out.getvalue()


def test_import_errors_fail_the_command_and_write_nothing(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('[{"first_name": "A", "last_name": "B", "date_of_birth": "nope"}]')
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_patients", str(source), stdout=io.StringIO(), stderr=err)

    assert "row 1: date_of_birth: invalid" in err.getvalue()
    assert Patient.objects.count() == 0


def test_a_command_import_records_its_event_with_the_rows(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(patient_rows(3))

    call_command("import_patients", str(source), stdout=io.StringIO(), stderr=io.StringIO())

    event = AuditEvent.objects.get(action=Action.IMPORT)
    assert (event.resource_type, event.row_count) == ("patient", 3)
    assert Patient.objects.count() == 3


@pytest.mark.usefixtures("audit_table_refuses_inserts")
def test_a_command_import_whose_event_cannot_be_written_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(patient_rows(3))

    with pytest.raises(AuditUnavailable):
        call_command("import_patients", str(source), stdout=io.StringIO(), stderr=io.StringIO())

    assert Patient.objects.count() == 0


def test_interactions_commands(tmp_path: Path) -> None:
    patient = PatientFactory.create()
    source = tmp_path / "i.ndjson"
    source.write_text(
        f'{{"mrn": "{patient.mrn}", "outcome": "monitor", "occurred_at": "2026-01-01T00:00:00Z"}}\n'
    )
    call_command("import_interactions", str(source), stdout=io.StringIO(), stderr=io.StringIO())
    assert Interaction.objects.get().patient_id == patient.pk

    target = tmp_path / "i.json"
    call_command(
        "export_interactions",
        "--format",
        "json",
        "-o",
        str(target),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert f'"mrn": "{patient.mrn}"' in target.read_text()


def test_on_a_terminal_the_progress_is_a_bar_with_rate_and_eta() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as terminal:
        progress = Progress(total=10_000, label="Importing", stream=terminal)
        progress.bar.mininterval = 0  # draw every update, not at most ten times a second
        progress.update(5_000)
        progress.update(10_000)
        progress.close()
    chunks = []
    while True:  # everything written before the terminal closed, then EOF (EIO on Linux)
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    drawn = b"".join(chunks).decode()
    assert "Importing" in drawn
    assert "10.0k/10.0k" in drawn
    assert "rows/s" in drawn
