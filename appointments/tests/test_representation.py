"""AppointmentSerializer writes its output fields out (a day's list is a hot read);
these tests hold that representation equal to the one ModelSerializer derives from the
declared fields, for scheduled, cancelled and system-made rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from appointments.api.serializers import AppointmentSerializer
from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_cancel
from appointments.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def generic(appointment: Appointment) -> dict[str, object]:
    """What DRF's ModelSerializer makes of the declared fields."""
    return dict(serializers.ModelSerializer.to_representation(AppointmentSerializer(), appointment))


def appointments() -> list[Appointment]:
    reception = User.objects.create_user("reception-desk")
    start = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    booked = AppointmentFactory.create(start_time=start, created_by=reception, reason="Follow-up")
    nobody = AppointmentFactory.create(start_time=start + dt.timedelta(hours=1), created_by=None)
    later = AppointmentFactory.create(
        start_time=start + dt.timedelta(days=400, microseconds=250), created_by=reception
    )
    appointment_cancel(appointment=later, actor=reception, reason="Patient moved away")
    ids = [booked.pk, nobody.pk, later.pk]
    query = Appointment.objects.select_related("patient", "doctor", "created_by")
    return list(query.filter(pk__in=ids).order_by("start_time"))


def test_the_written_out_fields_are_the_declared_fields() -> None:
    rows = appointments()
    assert {a.status for a in rows} == {AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED}
    assert any(a.created_by is None for a in rows)
    for appointment in rows:
        fast = AppointmentSerializer(appointment).data
        assert fast == generic(appointment)
        assert list(fast) == AppointmentSerializer.Meta.fields
        assert JSONRenderer().render(fast) == JSONRenderer().render(generic(appointment))


def test_a_just_cancelled_instance_renders_as_a_loaded_one() -> None:
    """The service returns its own instance (status an enum member, times in Python's
    precision): the response body must not differ from a re-read."""
    reception = User.objects.create_user("front-desk")
    appointment = AppointmentFactory.create(
        start_time=dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC), created_by=reception
    )
    done = appointment_cancel(appointment=appointment, actor=reception, reason="")
    assert AppointmentSerializer(done).data == generic(done)
    assert AppointmentSerializer(done).data["status"] == "cancelled"


def test_a_day_list_renders_the_same_bytes_in_another_zone() -> None:
    rows = appointments()
    with timezone.override(ZoneInfo("America/New_York")):
        fast = AppointmentSerializer(rows, many=True).data
        slow = [generic(a) for a in rows]
        assert JSONRenderer().render(fast) == JSONRenderer().render(slow)
        assert fast[0]["start_time"] == "2026-03-02T04:30:00-05:00"
