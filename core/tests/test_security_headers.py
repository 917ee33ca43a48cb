"""Browser-facing protections: CSP, no-store, CORS, offline and private API docs, and
admin session expiry."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient

from core.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from core.permissions import Role
from notes.tests.factories import make_patient

pytestmark = pytest.mark.django_db


def csp_of(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().partition(" ") for part in header.split(";") if part.strip())
    return {name: rest for name, _, rest in parts}


def assert_strict_csp(response: Any) -> None:
    policy = csp_of(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no CDN
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


# --- Content-Security-Policy -------------------------------------------------------------


def test_admin_login_has_a_csp() -> None:
    assert_strict_csp(Client().get("/admin/login/"))


def test_api_docs_have_a_csp_and_load_nothing_from_a_cdn(api_client: APIClient) -> None:
    for path in ("/api/docs/", "/api/redoc/"):
        response = api_client.get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response)
        html = response.content.decode()
        assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html, path
        assert "<script>" not in html, f"{path}: inline script would be blocked by the CSP"
        assert "/static/drf_spectacular_sidecar/" in html, path


def test_the_docs_assets_are_our_static_files() -> None:
    for asset in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
    ):
        assert finders.find(asset), asset


def test_swagger_start_up_script_is_served_as_a_file(api_client: APIClient) -> None:
    response = api_client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_printable_summary_page_has_a_csp(provider_client: APIClient) -> None:
    patient = make_patient()
    response = provider_client.get(f"/api/v1/patients/{patient.pk}/summary.html")
    assert response.status_code in (200, 202)
    assert response["Content-Type"].startswith("text/html")
    assert_strict_csp(response)
    assert "<script" not in response.content.decode()


# --- Cache-Control: no-store -------------------------------------------------------------


def test_patient_data_responses_are_not_stored(provider_client: APIClient) -> None:
    patient = make_patient()
    for path in (
        "/api/v1/patients/",
        f"/api/v1/patients/{patient.pk}/",
        f"/api/v1/patients/{patient.pk}/summary.html",
        "/api/v1/patients/00000000-0000-0000-0000-000000000000/",  # a 404 too
    ):
        response = provider_client.get(path)
        assert "no-store" in response["Cache-Control"], path
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ines", "last_name": "Okafor", "date_of_birth": "1990-02-03"},
        format="json",
    )
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]


def test_health_is_not_marked_no_store(api_client: APIClient) -> None:
    assert not api_client.get("/health").has_header("Cache-Control")


# --- CORS --------------------------------------------------------------------------------


def _preflight(client: APIClient, origin: str) -> Any:
    return client.options(
        "/api/v1/patients/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_cors_is_closed_by_default(api_client: APIClient, provider_client: APIClient) -> None:
    assert not _preflight(api_client, "https://evil.example").has_header(
        "Access-Control-Allow-Origin"
    )
    response = provider_client.get("/api/v1/patients/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert not response.has_header("Access-Control-Allow-Origin")


def test_cors_allow_list(api_client: APIClient, provider_client: APIClient, settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.clinic.example"]
    allowed = _preflight(api_client, "https://app.clinic.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.clinic.example"
    assert "authorization" in allowed["Access-Control-Allow-Headers"]
    assert not allowed.has_header("Access-Control-Allow-Credentials")
    assert not _preflight(api_client, "https://evil.example").has_header(
        "Access-Control-Allow-Origin"
    )
    response = provider_client.get("/api/v1/patients/", HTTP_ORIGIN="https://app.clinic.example")
    assert response["Access-Control-Allow-Origin"] == "https://app.clinic.example"
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


# --- API docs private in production ----------------------------------------------------


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_docs_need_a_signed_in_user_unless_public(
    path: str, api_client: APIClient, viewer_client: APIClient, make_user: Any, settings: Any
) -> None:
    settings.API_DOCS_PUBLIC = False
    anonymous = api_client.get(path)
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["code"] in ("not_authenticated", "permission_denied")
    assert viewer_client.get(path).status_code == 200  # bearer token
    browser = Client()
    browser.force_login(make_user(Role.ADMIN, username="docs-reader"))
    assert browser.get(path).status_code == 200  # admin session
    settings.API_DOCS_PUBLIC = True
    assert api_client.get(path).status_code == 200


# --- Admin sessions ----------------------------------------------------------------------


@pytest.fixture
def admin_browser(make_user: Any) -> tuple[Client, User]:
    user = make_user(Role.ADMIN, username="ada")
    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 200  # stamps the session
    return browser, user


def _age_session(browser: Client, key: str, seconds_ago: int) -> None:
    session = browser.session
    session[key] = int(time.time()) - seconds_ago
    session.save()


def test_session_ends_after_the_idle_limit(admin_browser: tuple[Client, User]) -> None:
    browser, _ = admin_browser
    _age_session(browser, SESSION_SEEN_KEY, 29 * 60)
    assert browser.get("/admin/").status_code == 200  # 29 idle minutes: still signed in
    _age_session(browser, SESSION_SEEN_KEY, 31 * 60)
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert browser.get("/admin/").status_code == 302  # and stays signed out


def test_idle_limit_is_a_setting(admin_browser: tuple[Client, User], settings: Any) -> None:
    browser, _ = admin_browser
    settings.SESSION_IDLE_MINUTES = 5
    _age_session(browser, SESSION_SEEN_KEY, 6 * 60)
    assert browser.get("/admin/").status_code == 302


def test_session_ends_12_hours_after_sign_in_even_when_active(
    admin_browser: tuple[Client, User],
) -> None:
    browser, _ = admin_browser
    _age_session(browser, SESSION_STARTED_KEY, 11 * 3600)
    assert browser.get("/admin/").status_code == 200
    _age_session(browser, SESSION_STARTED_KEY, 12 * 3600 + 60)
    assert browser.get("/admin/").status_code == 302


def test_session_cookie_lives_at_most_12_hours(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
