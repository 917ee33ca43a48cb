"""Bearer tokens: issue, use, expire, revoke; stored hashed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.permissions import Role


@pytest.fixture
def provider(make_user):
    return make_user(
        Role.PROVIDER, username="pat", password="correct-horse-9", first_name="Pat", last_name="Doe"
    )


def _login(client: APIClient, username: str, password: str):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_issue_use_and_me(api_client: APIClient, provider, settings) -> None:
    response = _login(api_client, "pat", "correct-horse-9")
    assert response.status_code == 200
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"])
    expected = timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    assert abs((expires - expected).total_seconds()) < 120
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = api_client.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": provider.pk,
        "username": "pat",
        "full_name": "Pat Doe",
        "role": "Provider",
    }


def test_token_is_stored_hashed(api_client: APIClient, provider) -> None:
    token = _login(api_client, "pat", "correct-horse-9").json()["token"]
    stored = AuthToken.objects.get(user=provider)
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512 hex


def test_wrong_password_is_401_and_issues_nothing(api_client: APIClient, provider) -> None:
    response = _login(api_client, "pat", "wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not AuthToken.objects.exists()


def test_user_without_role_cannot_log_in(api_client: APIClient, django_user_model) -> None:
    django_user_model.objects.create_user("norole", password="pw-norole-1")
    assert _login(api_client, "norole", "pw-norole-1").status_code == 401


def test_expired_token_is_rejected(api_client: APIClient, provider) -> None:
    token = _login(api_client, "pat", "correct-horse-9").json()["token"]
    AuthToken.objects.filter(user=provider).update(expiry=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=provider).exists()  # expired tokens are purged


def test_issuing_a_token_purges_the_users_expired_ones(api_client: APIClient, provider) -> None:
    _login(api_client, "pat", "correct-horse-9")
    AuthToken.objects.filter(user=provider).update(expiry=timezone.now() - timedelta(seconds=1))
    fresh = _login(api_client, "pat", "correct-horse-9").json()["token"]
    assert AuthToken.objects.filter(user=provider).count() == 1
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh}")
    assert api_client.get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize("role", ["Viewer", "Provider", "Admin"])
def test_the_token_lookup_reads_the_role_of_each_group(api_client: APIClient, make_user, role):
    make_user(Role.from_label(role), username="who", password="pw-who-12345")
    token = _login(api_client, "who", "pw-who-12345").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").json()["role"] == role


def test_a_token_of_a_deactivated_user_is_refused(api_client: APIClient, provider) -> None:
    token = _login(api_client, "pat", "correct-horse-9").json()["token"]
    provider.is_active = False
    provider.save(update_fields=["is_active"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").status_code == 401


def test_revoke_own_token(api_client: APIClient, provider) -> None:
    token = _login(api_client, "pat", "correct-horse-9").json()["token"]
    other = _login(api_client, "pat", "correct-horse-9").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.delete("/api/v1/auth/token/").status_code == 204
    assert api_client.get("/api/v1/auth/me/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert api_client.get("/api/v1/auth/me/").status_code == 200  # only the caller's token


def test_inactive_user_token_stops_working(api_client: APIClient, provider) -> None:
    token = _login(api_client, "pat", "correct-horse-9").json()["token"]
    provider.is_active = False
    provider.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer \u00e9\u00e9\u00e9", "Token abc", "Basic dXNlcjpwYXNz"],
)
def test_malformed_authorization_headers_are_401(api_client: APIClient, db, header: str) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert api_client.get("/api/v1/patients/").status_code == 401


def test_login_rejects_unknown_fields_and_bad_types(api_client: APIClient, db) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "a", "password": "b", "admin": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "admin"
    assert api_client.post("/api/v1/auth/token/", [1, 2], format="json").status_code == 400
