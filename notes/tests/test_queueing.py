"""Queueing a note's processing when the broker (Redis) is down, and the sweep that
queues what is owed once it is back. The live version of these rows (a Redis that the
test stops and starts, a real worker and beat) is in faults/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from core.tests.clients import UserClient
from notes.models import ExtractionStatus, Note, NoteStatus, Signature
from notes.tasks import sweep_pending_notes
from notes.tests.factories import SOAP_NOTE, make_note
from notes.tests.helpers import note_url
from patients.models import Patient

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"
PASSWORD = "pw-for-tests-1"


def _forget_broker_connections() -> None:
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker_down() -> Iterator[Callable[[], None]]:
    """Point Celery at a port where nothing listens; ``restore()`` goes back to eager."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)

    def restore() -> None:
        _forget_broker_connections()
        celery_app.conf.update(broker_url=saved[0], task_always_eager=saved[1])

    _forget_broker_connections()
    celery_app.conf.update(broker_url=CLOSED_PORT, task_always_eager=False)
    yield restore
    restore()


@pytest.fixture
def redis_cache_down(settings: Any) -> None:
    """The cache (which keeps the throttles) on a Redis that is not there."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def age(note: Note, seconds: float) -> None:
    """As if the note had last changed ``seconds`` ago."""
    Note.objects.filter(pk=note.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_broker_down_a_typed_note_is_saved_pending_and_the_sweep_processes_it(
    provider_client: APIClient,
    patient: Patient,
    broker_down: Callable[[], None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client.post(
            f"/api/v1/patients/{patient.pk}/notes/",
            {"taken_at": timezone.now().isoformat(), "content": SOAP_NOTE},
            format="json",
        )

    assert response.status_code == 201
    assert response.json()["extraction_status"] == "pending"
    note = Note.objects.get(pk=response.json()["id"])
    assert note.content == SOAP_NOTE
    assert note.extraction_status == ExtractionStatus.PENDING

    age(note, django_settings.NOTES_SWEEP_INTERVAL_SECONDS + 1)
    assert sweep_pending_notes() == 0  # owed, but the broker is still down

    broker_down()  # the broker is back (eager here: the queued task runs at once)
    assert sweep_pending_notes() == 1
    note.refresh_from_db()
    assert note.extraction_status == ExtractionStatus.DONE
    assert note.structured_data


@pytest.mark.django_db(transaction=True)
def test_broker_down_reprocess_is_503_and_the_note_is_unchanged(
    provider_client: UserClient, patient: Patient, broker_down: Callable[[], None]
) -> None:
    """Committing, like a production request: the task is published after the commit."""
    note = make_note(patient=patient, author=provider_client.user)
    before = Note.objects.values().get(pk=note.pk)
    assert before["extraction_status"] == ExtractionStatus.DONE

    response = provider_client.post(note_url(note.pk, "reprocess"))

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["request_id"]
    assert Note.objects.values().get(pk=note.pk) == before

    broker_down()
    again = provider_client.post(note_url(note.pk, "reprocess"))
    assert again.status_code == 202
    note.refresh_from_db()
    assert (note.revision, note.extraction_status) == (before["revision"] + 1, "done")


def test_the_sweep_takes_up_a_note_whose_claim_expired_but_not_a_live_one(
    patient: Patient, broker_down: Callable[[], None]
) -> None:
    broker_down()
    lost = make_note(patient=patient)
    live = make_note(patient=patient)
    claimed_long_ago = timezone.now() - timedelta(
        seconds=django_settings.CELERY_TASK_TIME_LIMIT + 1
    )
    Note.objects.filter(pk=lost.pk).update(
        extraction_status=ExtractionStatus.PROCESSING, updated_at=claimed_long_ago
    )
    Note.objects.filter(pk=live.pk).update(
        extraction_status=ExtractionStatus.PROCESSING, updated_at=timezone.now()
    )

    assert sweep_pending_notes() == 1

    statuses = dict(Note.objects.values_list("pk", "extraction_status"))
    assert statuses == {lost.pk: ExtractionStatus.DONE, live.pk: ExtractionStatus.PROCESSING}


def test_redis_down_login_is_503_and_issues_no_token(
    api_client: APIClient, make_user: Callable[..., Any], redis_cache_down: None
) -> None:
    make_user(username="dora", password=PASSWORD)

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "dora", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert AuthToken.objects.count() == 0


def test_redis_down_signing_is_503_and_signs_nothing(
    provider_client: UserClient, patient: Patient, redis_cache_down: None
) -> None:
    note = make_note(patient=patient, author=provider_client.user)

    response = provider_client.post(
        note_url(note.pk, "sign"), {"password": PASSWORD, "meaning": "authorship"}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not Signature.objects.exists()
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
