from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import StrictFieldsMixin, reject_nul


class TokenRequestSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150, validators=[reject_nul])
    password = serializers.CharField(max_length=256, trim_whitespace=False, validators=[reject_nul])


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    expires_at = serializers.DateTimeField()


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=["Viewer", "Provider", "Admin"])
