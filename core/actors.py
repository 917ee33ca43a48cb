"""The acting user of a request, typed.

``request.user`` is ``User | AnonymousUser``; every view that writes sits behind a
permission class that answers 401 to an anonymous caller first, so by the time a view
calls a service there is a ``User``. ``actor_of`` says so once, for the type checker and
for any view that is wired up wrongly (a 401, never a write without an actor).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request


def actor_of(request: Request | HttpRequest) -> User:
    """The signed-in user making ``request`` (401 if there is none)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user
