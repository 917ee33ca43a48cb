"""Bearer-token authentication (django-rest-knox tokens: stored hashed, expiring)."""

from __future__ import annotations

import binascii
from functools import cache
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.signals import token_expired
from rest_framework import exceptions

from core.permissions import ROLE_GROUPS, Role, remember_role

Converter = tuple[list[Any], Any]


@cache
def _lookup_sql() -> str:
    """One statement: the token row, its user, and the user's strongest role group.

    Written once from the models' metadata (table and column names), so the hottest query
    of the API is not recompiled by the ORM on every request.
    """
    qn = connection.ops.quote_name
    token, user = AuthToken._meta, User._meta
    membership = User.groups.through._meta
    group = Group._meta
    columns = [f"t.{qn(str(f.column))}" for f in token.concrete_fields]
    columns += [f"u.{qn(str(f.column))}" for f in user.concrete_fields]
    rank = " ".join(f"WHEN %s THEN {int(role)}" for role in ROLE_GROUPS)
    # Identifiers come from model metadata, quoted; every value is a parameter.
    return (
        f"SELECT {', '.join(columns)}, ("  # noqa: S608  # nosec B608
        f"SELECT max(CASE g.{qn('name')} {rank} ELSE 0 END) "
        f"FROM {qn(membership.db_table)} m JOIN {qn(group.db_table)} g "
        f"ON g.{qn('id')} = m.{qn('group_id')} WHERE m.{qn('user_id')} = u.{qn('id')}) "
        f"FROM {qn(token.db_table)} t JOIN {qn(user.db_table)} u "
        f"ON u.{qn('id')} = t.{qn('user_id')} "
        f"WHERE t.{qn('digest')} = %s"
    )


@cache
def _converters(model: Any) -> list[Converter]:
    """The database converters the ORM would apply to each concrete column of ``model``
    (SQLite returns datetimes as text, for instance)."""
    out = []
    for f in model._meta.concrete_fields:
        column = f.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
        out.append((converters, column))
    return out


def _instance(model: Any, values: tuple[Any, ...]) -> Any:
    converted = []
    for value, (converters, column) in zip(values, _converters(model), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db(connection.alias, names, converted)


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>``, checked with one indexed query.

    Knox stores only the SHA-512 digest of a token, as the table's primary key. Knox's own
    check looks candidates up by the token's first characters, compares digests in
    constant time, and then reads the user's other tokens to delete expired ones: three
    queries per request once the role is read too. Here the digest of the presented token
    is the lookup key itself (an attacker who cannot invert SHA-512 learns nothing from
    the index's timing), and the same row brings the user and the strongest role group,
    so ``role_of`` needs no query of its own. The statement is written once from the
    models' metadata rather than compiled by the ORM per request (profiling showed the
    compile cost more than the query). The presented token, when expired, is deleted and
    refused as knox does; other expired tokens of the user are purged when a new one is
    issued (``accounts.services.token_issue``), not on every request.

    A header with bytes that are not UTF-8 is a 401, not a server error.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        failed = exceptions.AuthenticationFailed("Invalid token.")
        try:
            digest = hash_token(token.decode("utf-8"))
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise failed from None
        with connection.cursor() as cursor:
            cursor.execute(_lookup_sql(), [*ROLE_GROUPS.values(), digest])
            row = cursor.fetchone()
        if row is None:
            raise failed
        split = len(AuthToken._meta.concrete_fields)
        auth_token = _instance(AuthToken, row[:split])
        user = _instance(User, row[split:-1])
        auth_token.user = user
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            token_expired.send(
                sender=self.__class__, username=user.get_username(), source="auth_token"
            )
            raise failed
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        remember_role(user, Role.ADMIN if user.is_superuser else Role(row[-1] or 0))
        return user, auth_token
