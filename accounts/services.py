"""Users, roles and API tokens: the one write path for each."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from core.actors import SYSTEM_USERNAME
from core.permissions import ROLE_GROUPS, Role


@transaction.atomic
def token_issue(*, user: AbstractBaseUser) -> tuple[str, datetime]:
    """Create a bearer token for ``user``; returns the plaintext (shown once) and expiry.

    Only the token's SHA-512 digest is stored. The user's expired tokens are purged here
    (authentication refuses them anyway, and deletes the one presented). One transaction:
    the token and its ``token_issued`` audit event commit together, or neither does.
    """
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    ttl = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    instance, token = AuthToken.objects.create(user=user, expiry=ttl)
    assert instance.expiry is not None  # a TTL was given
    return token, instance.expiry


def token_revoke(*, token: AuthToken) -> None:
    token.delete()


@transaction.atomic
def user_set_role(*, user: User, role: Role) -> User:
    """Put ``user`` in exactly one role group. Every role works in the staff console
    (``is_staff``); what it may do there comes from the group's model permissions. The
    system account (``core.actors``) never gets a role: 400, nothing changed."""
    if user.get_username() == SYSTEM_USERNAME:
        raise ValidationError(
            {"username": f"{SYSTEM_USERNAME!r} is reserved for writes no person made."}
        )
    groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*groups)
    # get_or_create: the role groups come from a data migration, but a missing group
    # (deleted by hand, or a flushed test database) must not make role changes fail.
    group, _ = Group.objects.get_or_create(name=ROLE_GROUPS[role])
    user.groups.add(group)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_upsert(
    *,
    username: str,
    role: Role,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create or update a user in ``role``; a given password replaces the old one."""
    user, created = User.objects.get_or_create(username=username)
    if first_name:
        user.first_name = first_name
    if last_name:
        user.last_name = last_name
    if email:
        user.email = email
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    return user_set_role(user=user, role=role)
