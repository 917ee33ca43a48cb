"""Demo seeding never leaves published passwords on a production-settings stack, and
never crashes on (or writes into) a database that already holds patients; production
settings refuse the .env.example placeholders; the admin path is configurable."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.demo import DEMO_USERS
from appointments.models import Appointment
from core.actors import system_actor
from core.tests.test_settings import PROD_ENV, _run
from notes.models import Note, NoteStatus
from patients.models import Patient
from patients.services import patient_create

ROOT = Path(__file__).resolve().parents[2]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_production_seeding_generates_passwords_and_prints_them_once(settings) -> None:
    settings.ENVIRONMENT = "production"
    first = seed("--allow-production")
    for username, published, *_ in DEMO_USERS:
        user = User.objects.get(username=username)
        assert not user.check_password(published), username
        match = re.search(rf"\b{username}/(\S+) \(", first)
        assert match, f"{username}'s generated password is printed"
        assert user.check_password(match.group(1))
    # The demo provider still signed the demo notes with the generated password.
    assert Note.objects.filter(status=NoteStatus.SIGNED).exists()

    second = seed("--allow-production")
    assert "admin (password unchanged)" in second
    assert not re.search(r"\badmin/\S+ \(", second)
    admin = User.objects.get(username="admin")
    printed = re.search(r"\badmin/(\S+) \(", first)
    assert printed is not None
    assert admin.check_password(printed.group(1))


@pytest.mark.django_db
def test_known_passwords_need_an_explicit_flag_under_production(settings) -> None:
    settings.ENVIRONMENT = "production"
    seed("--allow-production", "--known-passwords")
    assert User.objects.get(username="admin").check_password("admin-demo-pass")


@pytest.mark.django_db
def test_local_seeding_keeps_the_published_demo_logins() -> None:
    seed()
    assert User.objects.get(username="provider").check_password("provider-demo-pass")


@pytest.mark.django_db
def test_bootstrap_seed_demo_on_a_database_with_patients_does_not_crash(settings) -> None:
    settings.ENVIRONMENT = "production"
    # A real clinic's first patients took the MRNs the demo fixture uses.
    real = [
        patient_create(
            actor=system_actor(),
            first_name=f"Real{i}",
            last_name="Patient",
            date_of_birth=date(1970, 1, 1),
        )
        for i in range(3)
    ]
    assert real[0].mrn == "MRN-000001"
    out = io.StringIO()
    call_command("bootstrap", "--seed-demo", stdout=out, stderr=io.StringIO())
    assert "bootstrap: done" in out.getvalue()
    assert "3 skipped (MRN or email already in use)" in out.getvalue()
    for patient in real:
        patient.refresh_from_db()
        assert patient.first_name.startswith("Real")
        # Demo appointments are only ever booked for demo patients.
        assert not Appointment.objects.filter(patient=patient).exists()
    assert Patient.objects.count() > 3
    # New patients still get fresh MRNs afterwards.
    later = patient_create(
        actor=system_actor(),
        first_name="Later",
        last_name="Patient",
        date_of_birth=date(1980, 1, 1),
    )
    assert not Patient.objects.filter(mrn=later.mrn).exclude(pk=later.pk).exists()


def test_env_example_holds_placeholders_and_no_demo_seeding() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["DJANGO_SECRET_KEY"] == "change-me"
    assert values["METRICS_TOKEN"] == "change-me"
    assert values["SEED_DEMO_DATA"] != "true"


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "METRICS_TOKEN"])
def test_production_settings_refuse_the_placeholders(name: str) -> None:
    env = {**PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production", name: "change-me"}
    result = _run("import django; django.setup()", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_admin_lives_at_a_configurable_path() -> None:
    env = {
        **PROD_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ADMIN_URL": "/staff-console/",
    }
    code = (
        "import django; django.setup(); from django.urls import reverse, resolve; "
        "print(reverse('admin:index'), reverse('admin:login')); "
        "from django.urls import Resolver404\n"
        "try:\n    resolve('/admin/'); print('old-path-served')\n"
        "except Resolver404:\n    print('old-path-gone')"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/staff-console/", "/staff-console/login/", "old-path-gone"]
