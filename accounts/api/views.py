from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeSerializer, TokenRequestSerializer, TokenSerializer
from accounts.errors import AccountErrorCode
from accounts.lockout import LockedOut, is_locked_out
from accounts.services import token_issue, token_revoke
from core.actors import actor_of
from core.authentication import BearerTokenAuthentication
from core.permissions import PublicEndpoint, Role, ViewerAction, role_of
from core.throttling import ClientIpScopedRateThrottle


class TokenView(APIView):
    """Issue (POST) or revoke (DELETE) a bearer token."""

    throttle_scope = "token"
    error_statuses = {
        "post": {
            401: {AccountErrorCode.INVALID_CREDENTIALS: "wrong username or password."},
            429: {
                AccountErrorCode.LOCKED_OUT: "too many failed sign-ins for this account or "
                "from this address (the same answer whether or not the username exists)."
            },
        }
    }
    # Bearer only: a browser session must not be able to mint tokens without CSRF checks.
    authentication_classes = [BearerTokenAuthentication]

    def get_permissions(self) -> list[Any]:
        # Anyone may try to log in; only a token holder may revoke their token.
        if self.request.method == "POST":
            return [PublicEndpoint()]
        return [ViewerAction()]

    def get_throttles(self) -> list[Any]:
        return [ClientIpScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        auth=[],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        examples=[
            OpenApiExample(
                "Demo provider",
                value={"username": "provider", "password": "provider-demo-pass"},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={"token": "3f1c...e9", "expires_at": "2026-11-22T20:00:00Z"},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None and is_locked_out(request._request):
            raise LockedOut()
        if user is None or role_of(user) == Role.NONE:
            raise exceptions.AuthenticationFailed(
                "Unable to log in with the provided credentials.",
                code=AccountErrorCode.INVALID_CREDENTIALS,
            )
        token, expires_at = token_issue(user=user)
        # As Django's login() does: clears this account's failed attempts (django-axes)
        # and updates last_login.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response(TokenSerializer({"token": token, "expires_at": expires_at}).data)

    @extend_schema(tags=["auth"], operation_id="auth_token_destroy", responses={204: None})
    def delete(self, request: Request) -> Response:
        if request.auth is None:
            raise exceptions.NotAuthenticated()
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who am I: the caller's username and role."""

    permission_classes = [ViewerAction]

    @extend_schema(tags=["auth"], operation_id="auth_me", responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        user = actor_of(request)
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "role": role_of(user).label,
        }
        return Response(MeSerializer(data).data)
