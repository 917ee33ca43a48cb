from __future__ import annotations

import io
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.actors import system_actor
from core.permissions import Role, role_of
from patients.models import Patient


def _run(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("create_api_user", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_api_user_prints_a_working_token_last(monkeypatch) -> None:
    output = _run("nurse1", "--role", "viewer")
    token = output.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = client.get("/api/v1/auth/me/").json()
    assert me["username"] == "nurse1"
    assert me["role"] == "Viewer"
    assert not User.objects.get(username="nurse1").has_usable_password()


@pytest.mark.django_db
def test_create_api_user_updates_role_and_password(monkeypatch) -> None:
    _run("dr1", "--role", "viewer")
    _run(
        "dr1",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a-Long-passphrase-42\n",
        monkeypatch=monkeypatch,
    )
    user = User.objects.get(username="dr1")
    assert role_of(user) == Role.ADMIN
    assert list(user.groups.values_list("name", flat=True)) == ["Admin"]
    assert user.check_password("a-Long-passphrase-42")
    assert user.is_staff


@pytest.mark.django_db
def test_create_api_user_rejects_weak_password(monkeypatch) -> None:
    with pytest.raises(CommandError):
        _run(
            "dr2", "--role", "provider", "--password-stdin", stdin="123\n", monkeypatch=monkeypatch
        )
    assert not User.objects.filter(username="dr2").exists()


@pytest.mark.django_db
def test_create_api_user_rejects_unknown_role() -> None:
    with pytest.raises(CommandError):
        _run("x", "--role", "superhero")


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    counts = (User.objects.count(), Patient.objects.count())
    mrns = set(Patient.objects.values_list("mrn", flat=True))
    call_command("seed_demo", stdout=io.StringIO())
    assert (User.objects.count(), Patient.objects.count()) == counts
    assert set(Patient.objects.values_list("mrn", flat=True)) == mrns
    assert counts[1] >= 30
    # New patients continue after the demo MRNs.
    from patients.services import patient_create

    new = patient_create(
        actor=system_actor(), first_name="New", last_name="Person", date_of_birth=date(1990, 1, 1)
    )
    assert new.mrn not in mrns
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "provider", "password": "provider-demo-pass"},
        format="json",
    ).json()["token"]
    assert token


@pytest.mark.django_db
def test_seed_demo_refuses_under_production(settings) -> None:
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.filter(username="admin").exists()
