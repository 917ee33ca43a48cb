"""Lockout after failed sign-ins, on all three surfaces, and the Admin unlock.

Limits are the real defaults (5 per account, 20 per address); nothing is mocked: the
attempts go through the token endpoint, the admin login form and the note-sign action,
and django-axes counts them in the database.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.lockout import account_locked_out
from accounts.services import token_issue
from core.permissions import Role
from notes.models import NoteStatus
from notes.tests.factories import make_note, make_patient

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-9"
TOKEN_URL = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token throttle (10/min per address) would answer 429 before the lockout does;
    these tests are about the lockout."""
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "token": "1000/min", "note_sign": "1000/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


def locked(response: Any) -> bool:
    return response.status_code == 429 and response.json()["code"] == "locked_out"


@pytest.fixture
def pat(make_user: Any) -> User:
    return make_user(Role.PROVIDER, username="pat", password=PASSWORD)


@pytest.fixture
def ada(make_user: Any) -> User:
    return make_user(Role.ADMIN, username="ada", password=PASSWORD)


@pytest.fixture
def lockouts() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        seen.append({"username": kwargs["username"], "ip_address": kwargs["ip_address"]})

    account_locked_out.connect(record)
    yield seen
    account_locked_out.disconnect(record)


def token(client: APIClient, username: str, password: str, ip: str = "198.51.100.7") -> Any:
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def admin_login(client: Client, username: str, password: str, ip: str = "198.51.100.7") -> Any:
    return client.post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


# --- Token endpoint --------------------------------------------------------------------


def test_token_endpoint_locks_the_account_and_the_right_password_no_longer_works(
    api_client: APIClient, pat: User, lockouts: list[dict[str, Any]]
) -> None:
    statuses = [token(api_client, "pat", "wrong").status_code for _ in range(5)]
    # The fifth failure is the one that locks; it already answers 429.
    assert statuses == [401, 401, 401, 401, 429]
    response = token(api_client, "pat", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert "pat" not in body["detail"]
    assert int(response["Retry-After"]) == 15 * 60
    # Other addresses are refused too: the lock is on the account.
    assert locked(token(api_client, "pat", PASSWORD, ip="203.0.113.50"))
    assert lockouts and lockouts[0] == {"username": "pat", "ip_address": "198.51.100.7"}


def test_lockout_answer_does_not_reveal_whether_the_username_exists(
    api_client: APIClient, pat: User
) -> None:
    for _ in range(5):
        token(api_client, "pat", "wrong", ip="198.51.100.1")
        token(api_client, "nobody-by-this-name", "wrong", ip="198.51.100.2")
    real = token(api_client, "pat", "wrong", ip="198.51.100.1")
    fake = token(api_client, "nobody-by-this-name", "wrong", ip="198.51.100.2")
    assert locked(real) and locked(fake)
    strip = {"request_id"}
    assert {k: v for k, v in real.json().items() if k not in strip} == {
        k: v for k, v in fake.json().items() if k not in strip
    }
    assert real["Retry-After"] == fake["Retry-After"]


def test_address_lockout_spans_accounts_and_ignores_forged_forwarded_for(
    api_client: APIClient, pat: User
) -> None:
    # 20 failures from one address, each on a different username (no account reaches 5),
    # each with a different forged X-Forwarded-For.
    for i in range(20):
        api_client.post(
            TOKEN_URL,
            {"username": f"guess-{i}", "password": "wrong"},
            format="json",
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    assert locked(token(api_client, "pat", PASSWORD, ip="198.51.100.9"))
    # pat's account itself is not locked: from elsewhere the right password works.
    assert token(api_client, "pat", PASSWORD, ip="203.0.113.50").status_code == 200


def test_trusted_proxy_address_is_what_gets_locked(
    api_client: APIClient, pat: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(20):
        api_client.post(
            TOKEN_URL,
            {"username": f"guess-{i}", "password": "wrong"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    behind_same_proxy = api_client.post(
        TOKEN_URL,
        {"username": "pat", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.30",
    )
    assert behind_same_proxy.status_code == 200  # another client of the same proxy


def test_a_success_clears_the_failures(api_client: APIClient, pat: User) -> None:
    for _ in range(4):
        assert token(api_client, "pat", "wrong").status_code == 401
    assert token(api_client, "pat", PASSWORD).status_code == 200
    for _ in range(4):
        assert token(api_client, "pat", "wrong").status_code == 401
    assert token(api_client, "pat", PASSWORD).status_code == 200


def test_unlock_command_restores_sign_in(api_client: APIClient, pat: User) -> None:
    for _ in range(5):
        token(api_client, "pat", "wrong")
    assert locked(token(api_client, "pat", PASSWORD))
    out = io.StringIO()
    call_command("unlock", username=["pat"], stdout=out)
    assert "record(s) removed" in out.getvalue()
    assert token(api_client, "pat", PASSWORD).status_code == 200


def test_unlock_command_by_address(api_client: APIClient, pat: User) -> None:
    for i in range(20):
        token(api_client, f"guess-{i}", "wrong", ip="198.51.100.9")
    assert locked(token(api_client, "pat", PASSWORD, ip="198.51.100.9"))
    call_command("unlock", ip=["198.51.100.9"], stdout=io.StringIO())
    assert token(api_client, "pat", PASSWORD, ip="198.51.100.9").status_code == 200


def test_unlock_command_needs_a_target() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("unlock", stdout=io.StringIO())


# --- Admin login -----------------------------------------------------------------------


def test_admin_login_locks_out_and_an_admin_unlocks_with_the_action(
    ada: User, make_user: Any
) -> None:
    attacker = Client()
    for _ in range(4):
        assert admin_login(attacker, "ada", "wrong").status_code == 200  # form with error
    page = admin_login(attacker, "ada", "wrong")
    assert page.status_code == 429
    assert b"Too many failed sign-in attempts" in page.content
    assert b"ada" not in page.content
    # The right password from a fresh browser is refused too, and no session is made.
    browser = Client()
    refused = admin_login(browser, "ada", PASSWORD, ip="203.0.113.80")
    assert refused.status_code == 429
    assert browser.get("/admin/").status_code == 302  # still sent to the login page

    # A second Admin unlocks from the user list.
    other = make_user(Role.ADMIN, username="grace", password=PASSWORD)
    # The user list needs the model permissions to manage users.
    other.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", codename__in=["view_user", "change_user"]
        )
    )
    console = Client()
    console.force_login(other)
    response = console.post(
        "/admin/auth/user/",
        {"action": "unlock_sign_in", "_selected_action": [str(ada.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Sign-in unlocked for 1 account" in response.content
    assert admin_login(browser, "ada", PASSWORD, ip="203.0.113.80").status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_token_and_admin_failures_count_against_the_same_account(
    api_client: APIClient, ada: User
) -> None:
    for _ in range(3):
        token(api_client, "ada", "wrong")
    browser = Client()
    admin_login(browser, "ada", "wrong")
    assert admin_login(browser, "ada", "wrong").status_code == 429
    assert locked(token(api_client, "ada", PASSWORD))


# --- Note signing ----------------------------------------------------------------------


def test_note_signing_locks_out_after_wrong_passwords(api_client: APIClient, pat: User) -> None:
    note = make_note(patient=make_patient(), author=pat)
    key, _ = token_issue(user=pat)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/notes/{note.pk}/sign/"

    def sign(password: str) -> Any:
        return client.post(
            url,
            {"password": password, "meaning": "authorship"},
            format="json",
            REMOTE_ADDR="198.51.100.7",
        )

    codes = [sign("wrong").json()["code"] for _ in range(5)]
    assert codes == ["invalid_password"] * 4 + ["locked_out"]
    response = sign(PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    note.refresh_from_db()
    assert note.status != NoteStatus.SIGNED
    # The account is locked for sign-in as well.
    assert locked(token(api_client, "pat", PASSWORD))

    call_command("unlock", username=["pat"], stdout=io.StringIO())
    assert sign(PASSWORD).status_code == 200
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
