"""API tokens as their owners see them; the token itself only in the answer that created it."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers.common import StrictIntegerField, StrictSerializer, UtcDateTimeField
from payops.apikeys.models import ApiToken
from payops.staff.levels import StaffLevel


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username")
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField(allow_null=True)
    last_used_at = UtcDateTimeField(allow_null=True, help_text="To the minute.")
    revoked_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "level", "prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
        extra_kwargs = {"prefix": {"help_text": "The token's first characters, to tell tokens apart."}}


class CreatedApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        help_text="The token. Shown this once and never again: payops stores only its SHA-256 digest."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class CreateApiTokenSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for.")
    level = serializers.ChoiceField(
        choices=StaffLevel.choices, help_text="What the token may do; at most your own level."
    )
    expires_in_days = StrictIntegerField(
        min_value=1, max_value=3650, required=False, help_text="Omitted: the token does not expire."
    )
