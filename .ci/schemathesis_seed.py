"""Records in the states a fresh schemathesis run cannot reach by itself.

Some item operations act only on a record in a particular state: an appointment that has
started (complete, no-show), a signed or unsigned processed note (sign, addenda,
retract), an uploaded note (its file), a failed summary (retry) and an import job (read,
retry, which no call of the run creates: only files above IMPORT_SYNC_MAX_ROWS become
jobs). The stateful phase's links give them ids of records in other states, so they
answered 404 or 409 without reaching their logic. Others (amending or retracting an
interaction, a doctor's availability) are reached through links only by chance, as
creates with generated bodies mostly fail validation. This script, run by `.ci/schemathesis`
after `seed_demo` and the API users, writes one record per state through the services
(the test factories where a state is in the past) and prints their ids as
`NAME=value` lines; `.ci/schemathesis.toml` pins each operation's `id` to one of them.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import user_upsert  # noqa: E402
from appointments.tests.factories import AppointmentFactory  # noqa: E402
from core.permissions import Role  # noqa: E402
from doctors.models import Doctor  # noqa: E402
from interactions.services import interaction_record  # noqa: E402
from notes.models import Note  # noqa: E402
from notes.processing import note_process  # noqa: E402
from notes.services import note_create_from_text, note_create_from_upload, note_sign  # noqa: E402
from notes.tests.factories import SOAP_NOTE  # noqa: E402
from outcomes.models import Outcome  # noqa: E402
from patients.models import Patient  # noqa: E402
from summaries.models import SummaryStatus  # noqa: E402
from summaries.tests.factories import SummaryFactory  # noqa: E402
from transfers.models import ImportJob, ImportStatus  # noqa: E402

SIGNER_PASSWORD = "schemathesis-signer-only-0123"  # noqa: S105 (a throwaway database)


def main() -> None:
    provider = User.objects.get(username="st-provider")
    admin = User.objects.get(username="st-admin")
    signer = user_upsert(username="st-signer", role=Role.PROVIDER, password=SIGNER_PASSWORD)
    patient = Patient.objects.order_by("mrn").first()
    assert patient is not None, "seed_demo made no patients"
    now = timezone.now()
    started = [
        AppointmentFactory(patient=patient, start_time=now - timedelta(hours=hours))
        for hours in (3, 5)
    ]

    def typed(author: User) -> str:
        note = note_create_from_text(
            patient=patient, actor=author, taken_at=now - timedelta(hours=1), content=SOAP_NOTE
        )
        note_process(note_id=note.pk)
        return str(note.pk)

    unsigned = typed(provider)
    to_retract = typed(provider)
    signed_id = typed(signer)
    note_sign(
        note=Note.objects.get(pk=signed_id),
        actor=signer,
        password=SIGNER_PASSWORD,
        meaning="authorship",
    )
    uploaded = note_create_from_upload(
        patient=patient,
        actor=provider,
        taken_at=now - timedelta(hours=2),
        data=SOAP_NOTE.encode(),
        file_name="visit-note.txt",
        declared_type="text/plain",
    )
    healthy = Outcome.objects.get(pk="healthy")
    interactions = [
        interaction_record(patient=patient, outcome=healthy, notes="Seeded.", actor=provider)
        for _ in range(2)
    ]
    doctor = Doctor.objects.order_by("full_name").first()
    assert doctor is not None, "seed_demo made no doctors"
    failed_summary = SummaryFactory(patient=patient, status=SummaryStatus.FAILED)
    sample = (ROOT / "fixtures" / "samples" / "patients.csv").read_bytes()
    job = ImportJob(
        kind="patients",
        status=ImportStatus.FAILED,
        file_name="patients.csv",
        file_format="csv",
        total_rows=sample.count(b"\n") - 1,
        failure_code="worker_lost",
        failure_detail="Seeded for schemathesis: a job whose worker was lost.",
        created_by=admin,
    )
    job.file.save("schemathesis-patients.csv", ContentFile(sample), save=False)
    job.save()
    for name, value in {
        "ST_APPOINTMENT_STARTED": started[0].pk,
        "ST_APPOINTMENT_STARTED_2": started[1].pk,
        "ST_NOTE_UNSIGNED": unsigned,
        "ST_NOTE_TO_RETRACT": to_retract,
        "ST_NOTE_SIGNED": signed_id,
        "ST_NOTE_UPLOADED": uploaded.pk,
        "ST_INTERACTION": interactions[0].pk,
        "ST_INTERACTION_2": interactions[1].pk,
        "ST_DOCTOR": doctor.pk,
        "ST_SUMMARY_FAILED": failed_summary.pk,
        "ST_IMPORT_JOB": job.pk,
    }.items():
        sys.stdout.write(f"{name}={value}\n")


if __name__ == "__main__":
    main()
