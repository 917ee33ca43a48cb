"""Who makes a write: every service takes ``actor: User``, keyword-only, never ``None``.

Two places an actor comes from, and no third:

* **A person.** A view or admin page passes the signed-in user, ``actor_of(request)``.
  ``request.user`` is ``User | AnonymousUser``; every view that writes sits behind a
  permission class that answers 401 to an anonymous caller first, so by the time a view
  calls a service there is a ``User``. ``actor_of`` says so once, for the type checker
  and for any view that is wired up wrongly (a 401, never a write without an actor).
  A management command run for a person takes ``--actor USERNAME`` and passes
  ``actor_named(username)``.
* **Nobody.** A write no person asked for — beat's sweeps, a worker finishing a job, the
  demo seeder, a command run without ``--actor`` — is made as the *system account*,
  ``system_actor()``: one well-known user (``SYSTEM_USERNAME``), created on first use,
  inactive, with an unusable password and no role, so it can never sign in, hold a token
  or pass a permission check. The audit trail and the change history name it like any
  other user, so "the system did it" is a visible fact rather than a blank.

A service passes its actor on to the change history with ``record_actor`` (before the
save), so a write made outside a request — where simple-history's request middleware
has no user — is still attributed.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db.models import Model
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request

#: The username of the system account. Reserved: an account of that name that could sign
#: in is a misconfiguration, refused loudly by ``system_actor``.
SYSTEM_USERNAME = "system"


def actor_of(request: Request | HttpRequest) -> User:
    """The signed-in user making ``request`` (401 if there is none)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def system_actor() -> User:
    """The system account, created idempotently (a concurrent first use is harmless:
    ``get_or_create`` falls back to reading the row the other transaction made)."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "System", "password": make_password(None)},
    )
    if not created and (
        user.is_active or user.is_staff or user.is_superuser or user.has_usable_password()
    ):
        raise ImproperlyConfigured(
            f"The account {SYSTEM_USERNAME!r} is reserved for writes no person made and must "
            "be inactive, without a password and without staff rights; rename or fix it."
        )
    return user


def actor_named(username: str | None) -> User:
    """A management command's ``--actor``: that user, or the system account if none was
    given. An unknown or inactive username is an error, never a silent fallback."""
    if not username:
        return system_actor()
    user = User.objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"No active user named {username!r}.")
    return user


def record_actor(instance: Model, actor: User) -> None:
    """Name ``actor`` in the change history of ``instance``'s next save (simple-history
    reads ``_history_user`` before the request's user)."""
    instance.__dict__["_history_user"] = actor
