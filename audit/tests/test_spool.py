"""Reads' events through the crash-safe spool: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from audit.chain import append_many, verify
from audit.models import AuditEvent
from audit.spool import drain, spool
from patients.tests.factories import PatientFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    spool.rotate()
    with override_settings(AUDIT_READ_MODE="spool", AUDIT_SPOOL_DIR=str(tmp_path)):
        yield tmp_path
    spool.rotate()


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def test_a_read_is_spooled_before_the_response_and_lands_in_the_chain(
    viewer_client: APIClient, spool_dir: Path
) -> None:
    patient = PatientFactory.create()
    assert viewer_client.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()
    (segment,) = _segments(spool_dir)
    assert str(patient.pk) in segment.read_text()

    assert spool.flush() == 1
    event = AuditEvent.objects.get(patient_id=patient.pk)
    assert (event.action, event.status_code, event.actor_username) == ("view", 200, "viewer-user")
    assert _segments(spool_dir) == []
    assert verify() == (1, None)


def test_a_live_processs_segment_is_left_alone(spool_dir: Path) -> None:
    from audit.recorder import audit_record

    audit_record(action="view", resource_type="patient", resource_id="1", deferred=True)
    assert drain(spool_dir) == 0  # this process still writes it (its flock is held)
    assert spool.flush() == 1


def test_events_of_a_crashed_process_are_drained_by_another(spool_dir: Path) -> None:
    patient_id = uuid.uuid4()
    script = (
        "import os, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "settings.AUDIT_READ_MODE = 'spool'\n"
        f"settings.AUDIT_SPOOL_DIR = {str(spool_dir)!r}\n"
        "settings.AUDIT_SPOOL_FLUSH_SECONDS = 0\n"
        "from audit.recorder import audit_record\n"
        "for i in range(3):\n"
        f"    audit_record(action='view', resource_type='patient', patient_id={str(patient_id)!r},"
        " resource_id=str(i), deferred=True)\n"
        "os._exit(9)  # killed: no atexit flush, no cleanup\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert done.returncode == 9, done.stderr.decode()
    assert len(_segments(spool_dir)) == 1

    assert drain(spool_dir) == 3
    assert AuditEvent.objects.filter(patient_id=patient_id).count() == 3
    assert _segments(spool_dir) == []
    assert verify() == (3, None)


def test_draining_again_after_a_crash_stores_nothing_twice(spool_dir: Path) -> None:
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "at": "2026-12-01T10:00:00+00:00",
        "actor_id": None,
        "actor_username": "",
        "actor_role": "",
        "action": "view",
        "resource_type": "patient",
        "resource_id": "",
        "patient_id": None,
        "returned_ids": [],
        "row_count": None,
        "request_id": "r1",
        "ip": "10.0.0.7",
        "user_agent": "",
        "status_code": 200,
        "reason": "",
        "break_glass": False,
    }
    # The batch committed, then the process died before removing the segment; the last
    # line was cut short by the crash.
    append_many([row])
    segment = spool_dir / f"{os.getpid() + 1}-crashed.jsonl"
    segment.write_text(json.dumps(row) + "\n" + '{"id": "trunc')
    assert drain(spool_dir) == 0
    assert AuditEvent.objects.count() == 1
    assert not segment.exists()
    assert verify() == (1, None)


def test_the_test_settings_record_reads_synchronously() -> None:
    assert settings.AUDIT_READ_MODE == "sync"
