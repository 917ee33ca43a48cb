"""Every changelist costs a fixed number of queries, pinned with 10,000 patients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.chain import QUERIES_PER_EVENT
from core.tests.console_helpers import build_clinic, login
from patients.models import LatestOutcome, Patient

pytestmark = pytest.mark.django_db

PATIENTS = 10_000
# Measured once; a per-row query would add tens or hundreds. On top: the audit event of
# the page (test settings write it synchronously) and the actor's role it records.
MAX_QUERIES = 16 + QUERIES_PER_EVENT + 1


def _many_patients(outcome: Any) -> None:
    Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"B{n:07d}",
                first_name=f"First{n}",
                last_name=f"Last{n % 997}",
                date_of_birth=dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000),
                search_document=f"first{n} last{n % 997} b{n:07d}",
            )
            for n in range(PATIENTS)
        ],
        batch_size=2000,
    )
    now = timezone.now()
    LatestOutcome.objects.bulk_create(
        [
            LatestOutcome(patient=p, outcome=outcome, occurred_at=now)
            for n, p in enumerate(Patient.objects.order_by("mrn"))
            if n % 3 == 0
        ],
        batch_size=2000,
    )


def test_changelists_query_counts_with_10000_patients(capsys: pytest.CaptureFixture[str]) -> None:
    clinic = build_clinic()
    _many_patients(clinic.outcome)
    client = login("admin")
    counts = {}
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        if not clinic.users["admin"].has_perm("{}.view_{}".format(*info)):
            continue  # e.g. knox's tokens: not part of any role
        url = reverse("admin:{}_{}_changelist".format(*info))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[f"{info[0]}.{info[1]}"] = len(queries)
    for extra in (
        reverse("admin:index"),
        reverse("admin:appointments_appointment_day") + "?span=week",
        reverse("admin:patients_patient_change", args=[clinic.patient.pk]),
        reverse("admin:patients_patient_changelist") + "?q=last12",
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(extra).status_code == 200
        counts[extra] = len(queries)
    with capsys.disabled():
        print("\nconsole query counts:", counts)  # noqa: T201 (the figures for the docs)
    over = {name: n for name, n in counts.items() if n > MAX_QUERIES}
    assert not over, over
