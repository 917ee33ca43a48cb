"""The project's FilterSet base, the list-only filter backend, and ordering that rejects
unknown fields and always ends with a unique tie-breaker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from core.errors import CoreErrorCode

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, with its form class built once per FilterSet class.

    django-filter builds a new form class for every request: a form field per filter and
    a ``type()`` call (a sixth of a list request's CPU, profiled). The form fields come
    from the filters' declarations alone, so the class is kept on the FilterSet class and
    reused; each request's form still deep-copies its fields (Django's ``Form`` does), so
    no bound value or queryset cache is shared between requests. A FilterSet with a
    filter whose queryset is a callable (choices that depend on the request) builds its
    form class per request, as django-filter does.
    """

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        cached: type[forms.Form] | None = cls.__dict__.get("_form_class")
        if cached is not None:
            return cached
        form: type[forms.Form] = super().get_form_class()
        if not any(callable(getattr(f, "queryset", None)) for f in self.filters.values()):
            cls._form_class = form
        return form


class ListFilterBackend(DjangoFilterBackend):
    """django-filter on list routes only.

    DRF runs the filter backends for detail routes too (``get_object`` filters the
    queryset before the lookup), which builds and validates a whole FilterSet for every
    ``GET /patients/{id}/`` although no detail route documents a filter parameter.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> Any:
        if getattr(view, "detail", False):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=a,-b``; unknown fields are a 400, and the primary key (``id``, or e.g.
    an outcome's ``code``) is always appended so that pages never repeat or skip rows
    when the ordered values tie."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> Any:
        if getattr(view, "detail", False):
            return queryset  # one row: nothing to order (see ListFilterBackend)
        return super().filter_queryset(request, queryset, view)

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: APIView) -> list[str]:
        params = request.query_params.get(self.ordering_param)
        if params is None:
            if queryset.query.order_by:
                # An explicit order from a filter (search ranking) wins over the default;
                # such orders carry their own tie-breaker.
                return []
            ordering = list(self.get_default_ordering(view) or [])
        else:
            fields = [p.strip() for p in params.split(",") if p.strip()]
            allowed = {
                item[0] for item in self.get_valid_fields(queryset, view, {"request": request})
            }
            unknown = [f for f in fields if f.lstrip("-") not in allowed]
            if unknown or not fields:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering field(s): {', '.join(unknown) or '(empty)'}. "
                            f"Allowed: {', '.join(sorted(allowed))}."
                        ]
                    },
                    code=CoreErrorCode.INVALID,
                )
            ordering = fields
        names = {f.lstrip("-") for f in ordering}
        tie_breaker = queryset.model._meta.pk.name
        if tie_breaker not in names and "pk" not in names:
            ordering.append(tie_breaker)
        return ordering

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        model = getattr(getattr(view, "queryset", None), "model", None)
        tie_breaker = model._meta.pk.name if model is not None else "id"
        if isinstance(fields, (list, tuple)):
            for param in params:
                param["description"] = (
                    "Comma-separated fields, `-` for descending. Allowed: "
                    + ", ".join(f"`{f}`" for f in fields)
                    + f". `{tie_breaker}` is always the final tie-breaker."
                )
        return params


TRUE_VALUES = {"true", "1"}
FALSE_VALUES = {"false", "0"}


def flag_param(request: Request, name: str) -> bool:
    """A boolean query parameter (``true``/``false``, ``1``/``0``; absent is false).
    Anything else is a 400 rather than a guess."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ValidationError({name: ["Use true or false."]}, code=CoreErrorCode.INVALID)


class AwareDateTimeFormField(forms.DateTimeField):
    """ISO 8601 with a UTC offset; a naive value is an error, never read in the server's
    time zone. (In a query string, write ``+`` as ``%2B`` or use ``Z``.)"""

    def to_python(self, value: Any) -> datetime | None:
        if not isinstance(value, str) or not value.strip():
            result: datetime | None = super().to_python(value)
            return result
        try:
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_aware(parsed):
                parsed.astimezone(UTC)  # out of range once converted?
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code=CoreErrorCode.INVALID)
        if timezone.is_naive(parsed):
            raise forms.ValidationError(
                "Include a UTC offset, e.g. 2026-03-02T09:30:00Z.", code=CoreErrorCode.NAIVE
            )
        # Compared in UTC: the databases accept narrower offsets than ISO 8601 allows
        # (PostgreSQL stops at ±15:59), and the instant is what matters.
        return parsed.astimezone(UTC)


class AwareDateTimeFilter(django_filters.DateTimeFilter):
    field_class = AwareDateTimeFormField
