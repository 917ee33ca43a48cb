"""TOTP second factor for staff in the admin console: enrolment and required sign-in."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.permissions import Role

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-9"


@pytest.fixture
def ada(make_user: Any) -> User:
    return make_user(Role.ADMIN, username="ada", password=PASSWORD)


def code_for(secret_b32: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows now (or ``steps_ahead`` 30-second steps later:
    the server accepts one step of clock drift, and never the same step twice)."""
    totp = TOTP(base64.b32decode(secret_b32))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def login(client: Client, code: str | None = None, password: str = PASSWORD) -> Any:
    data = {"username": "ada", "password": password, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post("/admin/login/", data)


def enrol(client: Client) -> str:
    page = client.get("/admin/otp/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, inline
    match = re.search(rb'id="otp-secret">([A-Z2-7=]+)<', page.content)
    assert match, "the enrolment page shows the key"
    secret = match.group(1).decode()
    confirmed = client.post("/admin/otp/enrol/", {"otp_token": code_for(secret)})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/admin/"
    return secret


def test_required_2fa_sends_an_unenrolled_admin_to_enrol_first(ada: User, settings: Any) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    browser = Client()
    assert login(browser).status_code == 302  # the password alone signs in...
    # ...but opens nothing: every admin page leads to the enrolment page.
    index = browser.get("/admin/", follow=True)
    assert index.redirect_chain[-1][0] == "/admin/otp/enrol/"
    assert browser.get("/admin/auth/user/").status_code == 302

    secret = enrol(browser)
    assert TOTPDevice.objects.filter(user=ada, confirmed=True).count() == 1
    assert browser.get("/admin/").status_code == 200

    # From now on the code is part of signing in.
    browser.post("/admin/logout/")
    fresh = Client()
    assert login(fresh, code_for(secret, steps_ahead=1)).status_code == 302
    assert fresh.get("/admin/").status_code == 200


def test_a_wrong_code_does_not_enrol(ada: User, settings: Any) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    browser = Client()
    login(browser)
    page = browser.get("/admin/otp/enrol/")
    match = re.search(rb'id="otp-secret">([A-Z2-7=]+)<', page.content)
    assert match
    window = {code_for(match.group(1).decode(), step) for step in (-1, 0, 1, 2)}
    wrong = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in window)
    response = browser.post("/admin/otp/enrol/", {"otp_token": wrong})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert not TOTPDevice.objects.filter(user=ada, confirmed=True).exists()
    assert browser.get("/admin/").status_code == 302


def test_enrolled_admin_without_or_with_a_wrong_code_is_refused_and_counted(
    ada: User, settings: Any
) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    setup = Client()
    login(setup)
    secret = enrol(setup)

    no_code = Client()
    response = login(no_code)
    assert response.status_code == 200
    assert b"authenticator code" in response.content
    assert no_code.get("/admin/").status_code == 302

    wrong = Client()
    window = {code_for(secret, step) for step in (-1, 0, 1, 2)}
    wrong_code = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in window)
    assert login(wrong, wrong_code).status_code == 200
    assert wrong.get("/admin/").status_code == 302
    # Both count as failed sign-ins for the lockout.
    attempts = AccessAttempt.objects.filter(username="ada")
    assert sum(a.failures_since_start for a in attempts) == 2
    # Neither the password nor the code is kept in the failure records.
    stored = " ".join(a.post_data + a.get_data for a in attempts)
    assert PASSWORD not in stored and wrong_code not in stored


def test_without_the_requirement_password_only_staff_still_sign_in(
    ada: User, settings: Any
) -> None:
    settings.ADMIN_REQUIRE_2FA = False
    browser = Client()
    assert login(browser).status_code == 302
    assert browser.get("/admin/").status_code == 200
    # Enrolling is still possible, and then the code is asked for.
    secret = enrol(browser)
    browser.post("/admin/logout/")
    assert login(Client()).status_code == 200
    assert login(Client(), code_for(secret, steps_ahead=1)).status_code == 302


def test_production_settings_require_2fa_by_default() -> None:
    from core.tests.test_settings import PROD_ENV, _run

    env = {**PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ADMIN_REQUIRE_2FA, s.API_DOCS_PUBLIC)"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
