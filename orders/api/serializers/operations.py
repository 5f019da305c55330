"""The machinery staff watch and nudge: webhook inbox rows, outbox rows, mails."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers.common import StrictSerializer, UtcDateTimeField
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from webhooks.models import InboxEvent

MAX_BULK_IDS = 100


class InboxEventListItemSerializer(serializers.ModelSerializer):
    received_at = UtcDateTimeField()
    processed_at = UtcDateTimeField(allow_null=True)
    next_attempt_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = InboxEvent
        fields = [
            "id",
            "provider",
            "event_id",
            "type",
            "status",
            "attempts",
            "received_at",
            "processed_at",
            "next_attempt_at",
            "outcome",
            "last_error",
        ]


class InboxEventSerializer(InboxEventListItemSerializer):
    payload = serializers.DictField(help_text="The event as the provider sent it.")
    lease_expires_at = UtcDateTimeField(allow_null=True)

    class Meta(InboxEventListItemSerializer.Meta):
        fields = [
            *InboxEventListItemSerializer.Meta.fields,
            "api_version",
            "livemode",
            "event_created",
            "lease_expires_at",
            "last_traceback",
            "payload",
        ]


class InboxReplayResponseSerializer(serializers.Serializer):
    result = serializers.CharField(help_text="What processing did now: processed, ignored, failed or skipped.")
    event = InboxEventSerializer()


class BulkIdsRequestSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, min_length=1, max_length=MAX_BULK_IDS
    )


class InboxBulkReplayResponseSerializer(serializers.Serializer):
    summary = serializers.DictField(
        child=serializers.IntegerField(), help_text='How many rows ended in each state, e.g. {"processed": 3}.'
    )


class OutboxEventListItemSerializer(serializers.ModelSerializer):
    occurred_at = UtcDateTimeField()
    next_attempt_at = UtcDateTimeField()
    published_at = UtcDateTimeField(allow_null=True)
    created_at = UtcDateTimeField()

    class Meta:
        model = OutboxEvent
        fields = [
            "id",
            "event_id",
            "source",
            "detail_type",
            "aggregate",
            "sequence",
            "status",
            "attempts",
            "occurred_at",
            "next_attempt_at",
            "published_at",
            "last_error",
            "created_at",
        ]


class OutboxEventSerializer(OutboxEventListItemSerializer):
    detail = serializers.DictField(help_text="The EventBridge detail as it is (or was) sent.")

    class Meta(OutboxEventListItemSerializer.Meta):
        fields = [*OutboxEventListItemSerializer.Meta.fields, "eventbridge_event_id", "detail"]


class OutboxRetryResponseSerializer(serializers.Serializer):
    retried = serializers.IntegerField(help_text="Dead rows sent round again.")


class MailListItemSerializer(serializers.ModelSerializer):
    created_at = UtcDateTimeField()
    sent_at = UtcDateTimeField(allow_null=True)
    next_attempt_at = UtcDateTimeField()

    class Meta:
        model = Mail
        fields = [
            "id",
            "template",
            "recipient",
            "language",
            "reference",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        ]


class MailSerializer(MailListItemSerializer):
    context = serializers.DictField(help_text="What the template is rendered with.")  # type: ignore[assignment]  # an API field named like a Serializer attribute
    claimed_at = UtcDateTimeField(allow_null=True)

    class Meta(MailListItemSerializer.Meta):
        fields = [*MailListItemSerializer.Meta.fields, "idempotency_key", "ses_message_id", "claimed_at", "context"]
