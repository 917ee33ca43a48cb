"""The issue's scenario in a real browser, as the seeded role accounts."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from core.tests.console_helpers import PASSWORDS, build_clinic

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def log_in(page: Page, base: str, username: str, password: str | None = None) -> None:
    page.context.clear_cookies()
    page.goto(base + reverse("admin:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password or PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#clinic-dashboard")).to_be_visible()


def pick(page: Page, field: str, term: str, option: str) -> None:
    """Choose in an autocomplete (select2) picker."""
    page.locator(f"#id_{field}").locator("xpath=..").locator(".select2-selection").click()
    page.locator(".select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_roles_do_their_jobs_in_the_console(page: Page, live_server: LiveServer) -> None:
    clinic = build_clinic()
    base = live_server.url

    # An Admin creates a Provider account and configures an outcome and a doctor.
    log_in(page, base, "admin")
    page.goto(base + reverse("admin:auth_user_add"))
    page.locator("#id_username").fill("nurse.jo")
    page.get_by_label("Role").select_option("provider")
    page.locator("#id_password1").fill("a-Long-passphrase-42")
    page.locator("#id_password2").fill("a-Long-passphrase-42")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("nurse.jo")
    page.goto(base + reverse("admin:outcomes_outcome_add"))
    page.get_by_label("Code").fill("referred")
    page.get_by_label("Label").fill("Referred to specialist")
    page.get_by_label("Severity").fill("1")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Referred to specialist")
    page.goto(base + reverse("admin:doctors_doctor_add"))
    page.get_by_label("Full name").fill("Dr. Lena Fischer")
    page.get_by_label("Specialty").fill("Cardiology")
    page.get_by_label("Email").fill("lena.fischer@clinic.example")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Lena Fischer")

    # The new Provider finds a patient by a misspelt name (trigram search, on either
    # database).
    log_in(page, base, "nurse.jo", "a-Long-passphrase-42")
    term = "Hadda Maria"
    page.goto(base + reverse("admin:patients_patient_changelist"))
    page.locator("#searchbar").fill(term)
    page.locator("#searchbar").press("Enter")
    page.get_by_role("link", name=clinic.patient.mrn).click()
    expect(page.locator("#chart-name")).to_contain_text("Maria Hadad")

    # Books from the day view's free slot, then sees the conflict when double-booking.
    page.goto(base + reverse("admin:appointments_appointment_day") + "?span=week")
    slot = page.locator(f"section[aria-labelledby='doctor-{clinic.doctor.pk}'] a.clinic-slot").first
    slot.click()
    form_url = page.url
    pick(page, "patient", "Hadad", "Hadad")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    page.goto(form_url)  # the same slot again
    pick(page, "patient", "Hadad", "Hadad")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote, .errorlist").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("already has an appointment that overlaps")
    expect(page.locator("body")).to_contain_text("Next free times")

    # Records an interaction and a note from the chart, generates a summary and sees it.
    chart = base + reverse("admin:patients_patient_change", args=[clinic.patient.pk])
    page.goto(chart)
    page.get_by_role("link", name="Record an interaction").click()
    page.get_by_label("Outcome").select_option("referred")
    page.get_by_label("Notes").fill("Referred to cardiology for chest pain.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".clinic-timeline")).to_contain_text("Referred to specialist")
    page.get_by_role("link", name="Add a note").click()
    page.get_by_label("Typed note").fill(
        "S: chest pain on exertion. O: BP 150/95, HR 88. A: suspected angina. "
        "P: aspirin 75 mg daily; no known drug allergies."
    )
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".messagelist")).to_contain_text("Note added")
    page.get_by_role("button", name="Generate summary").click()
    expect(page.locator("#summary-panel")).to_contain_text("Succeeded")
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Printable page").click()
    expect(popup.value.locator("body")).to_contain_text(clinic.patient.mrn)

    # A Viewer sees everything and can change nothing.
    log_in(page, base, "viewer")
    page.goto(chart)
    expect(page.locator("#chart-name")).to_contain_text("Maria Hadad")
    expect(page.get_by_role("link", name="Add a note")).to_have_count(0)
    expect(page.get_by_role("button", name="Generate summary")).to_have_count(0)
    response = page.goto(base + reverse("admin:appointments_appointment_add"))
    assert response is not None
    assert response.status == 403


def test_screenshots_for_the_readme(page: Page, live_server: LiveServer) -> None:
    """Writes docs/screenshots/ (the README shows them) from the demo clinic `make run`
    loads: the dashboard, tomorrow's day view and the busiest patient's chart."""
    from django.core.management import call_command
    from django.db.models import Count

    from patients.models import Patient

    call_command("seed_demo", stdout=StringIO())
    patient = Patient.objects.annotate(n=Count("interactions")).order_by("-n", "mrn").first()
    assert patient is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    log_in(page, base, "provider")
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    page.goto(base + reverse("admin:appointments_appointment_day") + "?span=tomorrow")
    expect(page.locator(".clinic-doctors")).to_contain_text("Free")
    page.screenshot(path=str(SCREENSHOTS / "day-view.png"), full_page=True)
    page.goto(base + reverse("admin:patients_patient_change", args=[patient.pk]))
    expect(page.locator("#chart-name")).to_contain_text(patient.last_name)
    page.screenshot(path=str(SCREENSHOTS / "chart.png"), full_page=True)
