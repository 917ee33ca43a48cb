"""Page-number pagination that refuses bad paging input instead of guessing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from core.errors import CoreErrorCode

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

MAX_PAGE_NUMBER = 1_000_000


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=&page_size=`` (default 20, max 100).

    A non-integer, zero or negative page, or a page size outside 1..100, is a 400 (never
    silently clamped); a page past the end is a 404.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError(
                {"page_size": ["A whole number is required."]}, code=CoreErrorCode.INVALID
            ) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"Must be between 1 and {self.max_page_size}."]},
                code=CoreErrorCode.INVALID,
            )
        return size

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            raise ValidationError(
                {"page": ["A whole number is required."]}, code=CoreErrorCode.INVALID
            ) from None
        if not 1 <= number <= MAX_PAGE_NUMBER:
            raise ValidationError(
                {"page": [f"Must be between 1 and {MAX_PAGE_NUMBER}."]}, code=CoreErrorCode.INVALID
            )
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound("That page does not exist.") from None
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER}
            elif param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
