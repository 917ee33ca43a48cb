"""Bearer-token authentication (django-rest-knox tokens: stored hashed, expiring)."""

from __future__ import annotations

import binascii
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.signals import token_expired
from rest_framework import exceptions

from core.permissions import ROLE_GROUPS, remember_role, role_from_flags


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>``, checked with one indexed query.

    Knox stores only the SHA-512 digest of a token, as the table's primary key. Knox's own
    check looks candidates up by the token's first characters, compares digests in
    constant time, and then reads the user's other tokens to delete expired ones: three
    queries per request once the role is read too. Here the digest of the presented token
    is the lookup key itself (an attacker who cannot invert SHA-512 learns nothing from
    the index's timing), and the same row brings the user and one flag per role group, so
    ``role_of`` needs no query of its own. The presented token, when expired, is deleted
    and refused as knox does; other expired tokens of the user are purged when a new one
    is issued (``accounts.services.token_issue``), not on every request.

    A header with bytes that are not UTF-8 is a 401, not a server error.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        failed = exceptions.AuthenticationFailed("Invalid token.")
        try:
            digest = hash_token(token.decode("utf-8"))
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise failed from None
        flags = {
            f"role_{role.name.lower()}": Exists(
                Group.objects.filter(user=OuterRef("user_id"), name=name)
            )
            for role, name in ROLE_GROUPS.items()
        }
        auth_token = (
            AuthToken.objects.select_related("user").annotate(**flags).filter(digest=digest).first()
        )
        if auth_token is None:
            raise failed
        user = auth_token.user
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            token_expired.send(
                sender=self.__class__, username=user.get_username(), source="auth_token"
            )
            raise failed
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        remember_role(user, role_from_flags(user, auth_token))
        return user, auth_token
