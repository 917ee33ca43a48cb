"""Bearer-token authentication (django-rest-knox tokens: stored hashed, expiring)."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication
from rest_framework import exceptions


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>``.

    Knox compares SHA-512 digests in constant time and deletes expired tokens as it meets
    them. We only harden the decoding: a header with bytes that are not UTF-8 is a 401,
    not a server error.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)
