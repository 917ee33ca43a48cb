"""Roles and the permission classes every view declares.

Three roles, stored as Django groups (created by ``accounts`` migration 0001):

* **Viewer** reads clinical data;
* **Provider** is a Viewer who may also make clinical writes (patients, appointments,
  interactions, notes, summaries);
* **Admin** may do everything: configuration, deletes, imports and exports, users.

Superusers are Admin. A user with several groups has the strongest one. The matrix is
written out in ``docs/permissions.md``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class Role(enum.IntEnum):
    """Roles in increasing order of power; comparisons use the order."""

    NONE = 0
    VIEWER = 1
    PROVIDER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def from_label(cls, label: str) -> Role:
        return cls[label.upper()]


ROLE_GROUPS: dict[Role, str] = {
    Role.VIEWER: "Viewer",
    Role.PROVIDER: "Provider",
    Role.ADMIN: "Admin",
}
_GROUP_ROLES = {name: role for role, name in ROLE_GROUPS.items()}


def role_of(user: Any) -> Role:
    """The user's role, memoised on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Role.NONE
    cached = getattr(user, "_clinic_role", None)
    if cached is not None:
        return Role(cached)
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = user.groups.values_list("name", flat=True)
        role = max((_GROUP_ROLES.get(n, Role.NONE) for n in names), default=Role.NONE)
    remember_role(user, role)
    return role


def remember_role(user: Any, role: Role) -> None:
    """Memoise ``role`` on this user object; it lives as long as the request's user."""
    user._clinic_role = role


class DenyAll(BasePermission):
    """The project-wide default: a view that forgets to declare permissions serves no one."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class _RolePermission(BasePermission):
    """Grants by role: ``read`` for safe methods, ``write`` for POST/PUT/PATCH, ``delete``."""

    read: Role = Role.ADMIN
    write: Role = Role.ADMIN
    delete: Role = Role.ADMIN
    message = "Your role does not allow this action."

    def required_role(self, request: Request) -> Role:
        if request.method in SAFE_METHODS:
            return self.read
        if request.method == "DELETE":
            return self.delete
        return self.write

    def has_permission(self, request: Request, view: APIView) -> bool:
        return role_of(request.user) >= self.required_role(request)


class ClinicalRecord(_RolePermission):
    """Clinical data: every role reads, Providers write, Admins delete."""

    read = Role.VIEWER
    write = Role.PROVIDER
    delete = Role.ADMIN


class Configuration(_RolePermission):
    """Reference data and configuration (doctors, outcomes): every role reads, Admins write."""

    read = Role.VIEWER
    write = Role.ADMIN
    delete = Role.ADMIN


class AdminOnly(_RolePermission):
    """Imports, exports and import jobs: Admins only, reads included."""


class ViewerAction(_RolePermission):
    """An action any signed-in role may take, whatever the method (e.g. revoke own token)."""

    read = Role.VIEWER
    write = Role.VIEWER
    delete = Role.VIEWER


class ProviderAction(_RolePermission):
    """A clinical action (POST) for Providers and Admins; reads for every role."""

    read = Role.VIEWER
    write = Role.PROVIDER
    delete = Role.PROVIDER


class PublicEndpoint(BasePermission):
    """Explicitly public: health checks, the token endpoint, the API docs."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return True


class ApiDocsAccess(BasePermission):
    """The OpenAPI schema, Swagger UI and ReDoc: public while ``API_DOCS_PUBLIC`` (the
    default outside production), otherwise for any signed-in user with a role."""

    message = "Sign in to read the API documentation."

    def has_permission(self, request: Request, view: APIView) -> bool:
        from django.conf import settings

        return bool(settings.API_DOCS_PUBLIC) or role_of(request.user) != Role.NONE
