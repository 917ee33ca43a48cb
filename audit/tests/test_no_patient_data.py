"""A full flow with distinctive patient data: none of it reaches a log record or an
audit event."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from core.permissions import Role

FIRST, LAST = "Zebulon", "Quixmarrow"
EMAIL = "zq.8841@example.org"
PHONE = "+14155550199"
NOTE_TEXT = "Xylophonic tremor-7731 observed after Quillback tincture 40 mg."


def _values(record: logging.LogRecord) -> str:
    return " ".join([record.getMessage(), *(str(v) for v in vars(record).values())])


@pytest.mark.django_db
def test_no_patient_data_in_logs_or_audit_events(
    client_for, admin_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider: APIClient = client_for(Role.PROVIDER)
    admin_api: APIClient = client_for(Role.ADMIN)

    created = provider.post(
        "/api/v1/patients/",
        {
            "first_name": FIRST,
            "last_name": LAST,
            "date_of_birth": "1977-07-17",
            "email": EMAIL,
            "phone": PHONE,
        },
        format="json",
    )
    assert created.status_code == 201
    patient = created.json()
    pk, mrn = patient["id"], patient["mrn"]
    taken = (timezone.now() - timedelta(hours=1)).isoformat()
    note = provider.post(
        f"/api/v1/patients/{pk}/notes/", {"content": NOTE_TEXT, "taken_at": taken}, format="json"
    )
    assert note.status_code == 201
    for query in (LAST, mrn, EMAIL):
        found = provider.get("/api/v1/patients/", {"search": query})
        assert found.status_code == 200 and found.json()["count"] == 1
    assert provider.get("/api/v1/patients/", {"email": EMAIL}).json()["count"] == 1
    assert provider.get(f"/api/v1/patients/{pk}/").status_code == 200
    assert provider.get(f"/api/v1/patients/{pk}/timeline/").status_code == 200
    assert provider.get(f"/api/v1/notes/{note.json()['id']}/").status_code == 200
    summary = provider.post(f"/api/v1/patients/{pk}/summaries/", {}, format="json")
    assert summary.status_code in (200, 202)
    assert provider.get(f"/api/v1/patients/{pk}/clinical-data/").status_code == 200
    provider.patch(f"/api/v1/patients/{pk}/", {"phone": "+14155550198"}, format="json")
    assert admin_api.get(f"/api/v1/patients/{pk}/access-log/").status_code == 200
    assert admin_api.get(f"/api/v1/patients/{pk}/history/").status_code == 200
    assert admin_client.get("/admin/patients/patient/", {"q": LAST}).status_code == 200
    assert admin_client.get(f"/admin/patients/patient/{pk}/change/").status_code == 200
    export = admin_api.get("/api/v1/patients/export/", {"format": "csv"})
    assert export.status_code == 200
    assert LAST in b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    # A dry-run import of a file that carries the same details (an email clash: reported
    # per row, never echoed into logs or events).
    row = f"first_name,last_name,date_of_birth,email\n{FIRST},{LAST},1977-07-17,{EMAIL}\n"
    imported = admin_api.post(
        "/api/v1/patients/import/",
        {"file": ContentFile(row.encode(), name="rows.csv"), "dry_run": "true"},
        format="multipart",
    )
    assert imported.status_code in (200, 400), imported.content

    secrets = [FIRST, LAST, EMAIL, PHONE, "4155550199", mrn, NOTE_TEXT, "Xylophonic", "Quillback"]
    events = list(AuditEvent.objects.values())
    assert len(events) >= 15
    stored = " ".join(str(v) for event in events for v in event.values())
    logged = " ".join(_values(r) for r in caplog.records)
    assert caplog.records  # the access log did write lines
    for secret in secrets:
        assert secret.lower() not in stored.lower(), f"{secret!r} in an audit event"
        assert secret.lower() not in logged.lower(), f"{secret!r} in a log record"
