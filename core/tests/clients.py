"""The API client the root conftest's role fixtures return."""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.test import APIClient


class UserClient(APIClient):
    """An API client holding a real bearer token of ``user`` (kept, so that tests can say
    who made a request)."""

    def __init__(self, user: User, token: str) -> None:
        super().__init__()
        self.user = user
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
