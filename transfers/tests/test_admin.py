"""Import and export buttons on the admin's patient and interaction lists, and the
import page (the same service as the API)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.permissions import Role
from patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user) -> Client:
    user: User = make_user(Role.ADMIN, username="staff-admin")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("changelist", "kind", "export"),
    [
        ("/admin/patients/patient/", "patients", "/api/v1/patients/export"),
        ("/admin/interactions/interaction/", "interactions", "/api/v1/interactions/export"),
    ],
)
def test_the_lists_have_import_and_export_buttons(staff, changelist, kind, export):
    page = staff.get(changelist).content.decode()
    assert f'href="/admin/transfers/importjob/import/{kind}/"' in page
    assert f'href="{export}?format=csv"' in page


def test_the_import_page_reports_problems_and_imports(staff):
    url = "/admin/transfers/importjob/import/patients/"
    bad = "first_name,last_name,date_of_birth\nAda,Lovelace,1955-12-10\n,Blank,1980-01-01\n"
    page = staff.post(
        url,
        {"file": SimpleUploadedFile("p.csv", bad.encode()), "mode": "create", "on_error": "abort"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing was written." in html
    assert "<td>3</td><td>first_name</td><td>blank</td>" in html
    assert Patient.objects.count() == 0

    page = staff.post(
        url,
        {"file": SimpleUploadedFile("p.csv", bad.encode()), "mode": "create", "on_error": "skip"},
    )
    assert "1 created" in page.content.decode()
    assert list(Patient.objects.values_list("last_name", flat=True)) == ["Lovelace"]

    export = staff.get("/api/v1/patients/export/?format=csv")  # the session authenticates
    assert b"Lovelace" in b"".join(export.streaming_content)


def test_the_import_page_is_for_admins_only(make_user):
    user: User = make_user(Role.PROVIDER, username="staff-provider")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/transfers/importjob/import/patients/").status_code == 403
