"""The importers' set-based identifier lookups find exactly the stored values, whatever
characters they hold (PostgreSQL sends text values joined into one parameter)."""

from __future__ import annotations

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory
from transfers import importing

pytestmark = pytest.mark.django_db

ODD = ["plain", "with,comma", 'quo"te', "{brace}", "back\\slash", "NULL", " lead", "sp ace",
       "it's", "ünï", "semi;colon", "tab\tin", "new\nline", ""]  # fmt: skip


@pytest.mark.parametrize("separator_in_a_value", [False, True])
def test_external_ids_and_emails_are_found_as_stored(separator_in_a_value: bool) -> None:
    stored = ODD[:-1] + (["unit\x1fsep"] if separator_in_a_value else [])
    patients = {}
    for n, value in enumerate(stored):
        patient = PatientFactory.create(email=f"p{n}@example.org")
        Patient.objects.filter(pk=patient.pk).update(external_id=value)
        patients[value] = patient.pk
    asked = [*stored, "absent", "Plain", "with", "comma", "x\x1fplain"]

    found = importing._existing(Patient, "external_id", asked)

    assert found == patients
    assert importing._existing(Patient, "external_id", [""]) == {}
    assert importing._existing(Patient, "external_id", ["plain"]) == {"plain": patients["plain"]}
    emails = importing._existing_emails(["p0@example.org", "p1@example.org\x1fp2@example.org"])
    assert set(emails) == {"p0@example.org"}


def test_ids_are_found_by_uuid() -> None:
    patient = PatientFactory.create()
    assert importing._existing(Patient, "pk", [patient.pk]) == {patient.pk: patient.pk}
