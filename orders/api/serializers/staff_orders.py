"""Orders as staff see them: the list, the full record, and the bodies of staff actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.serializers.common import (
    MoneyField,
    MoneySerializer,
    NextActionField,
    OrderLineSerializer,
    PaymentFailureField,
    StrictIntegerField,
    StrictSerializer,
    UtcDateTimeField,
)
from orders.models import Order, OrderEvent
from orders.models.orders import EventCause
from orders.models.payments import PaymentMethod
from orders.presentation import event_label, money_json
from orders.state_machine import OrderStatus
from payops.money import MAX_AMOUNT, MoneyError, normalize_currency


class StaffOrderListItemSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    total = MoneyField("total_amount")
    email = serializers.EmailField(source="customer.email")
    payment_method = serializers.SerializerMethodField(help_text="Method of the newest payment; null if none.")
    created_at = UtcDateTimeField()
    paid_at = UtcDateTimeField(allow_null=True)
    updated_at = UtcDateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=PaymentMethod.choices, allow_null=True))
    def get_payment_method(self, order: Order) -> str | None:
        payments = list(order.payments.all())  # prefetched, newest first
        return payments[0].method if payments else None


class StaffRefundSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    refund_id = serializers.CharField(allow_null=True, help_text="Stripe's refund id, once Stripe answered.")
    amount = MoneyField("amount")
    status = serializers.CharField(help_text='"requested" until Stripe answered; then Stripe\'s refund status.')
    reason = serializers.CharField()
    failure_reason = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.get_username", allow_null=True, default=None)
    created_at = UtcDateTimeField()


class StaffPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    intent_id = serializers.CharField(allow_null=True, help_text="The Stripe PaymentIntent; null when paid outside.")
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    status = serializers.CharField()
    amount = MoneyField("amount")
    amount_received = MoneyField("amount_received")
    amount_refunded = MoneyField("amount_refunded")
    review_open = serializers.BooleanField(help_text="An open Radar review holds fulfilment.")
    outside_source = serializers.CharField(help_text="Where money paid outside Stripe came from; empty otherwise.")
    outside_reference = serializers.CharField()
    next_action = NextActionField()
    failure = PaymentFailureField()
    refunds = StaffRefundSerializer(many=True, source="refunds.all")
    created_at = UtcDateTimeField()


class StaffShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField()
    shipped_by = serializers.CharField(source="shipped_by.get_username", allow_null=True, default=None)
    shipped_at = UtcDateTimeField()


class StaffDisputeSerializer(serializers.Serializer):
    dispute_id = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    amount = MoneyField("amount")
    evidence_due_by = UtcDateTimeField(allow_null=True)
    created_at = UtcDateTimeField()


class StaffEventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    type = serializers.CharField()
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # an API field named like a Serializer attribute
    from_status = serializers.CharField(help_text="Empty when the event did not change the status.")
    to_status = serializers.CharField()
    cause = serializers.ChoiceField(choices=EventCause.choices)
    cause_reference = serializers.CharField(help_text="Webhook event id, workflow step, refund ...")
    staff_user = serializers.CharField(source="staff_user.get_username", allow_null=True, default=None)
    data = serializers.DictField(help_text="What the event recorded (amounts, tracking numbers, reasons ...).")  # type: ignore[assignment]  # an API field named like a Serializer attribute
    created_at = UtcDateTimeField()

    def get_label(self, event: OrderEvent) -> str:
        return event_label(event.type)


class StaffOrderSerializer(StaffOrderListItemSerializer):
    token = serializers.CharField(help_text="The shopper's order token (to share the status page).")
    status_url = serializers.URLField()
    locale = serializers.CharField()
    stock_state = serializers.CharField(help_text="reserved, released or committed.")
    payment_expires_at = UtcDateTimeField(allow_null=True)
    lines = OrderLineSerializer(many=True, source="lines.all")
    payments = StaffPaymentSerializer(many=True, source="payments.all", help_text="Newest first.")
    shipments = StaffShipmentSerializer(many=True, source="shipments.all")
    disputes = serializers.SerializerMethodField()
    events = StaffEventSerializer(many=True, source="events.all", help_text="The timeline, oldest first.")
    refundable = serializers.SerializerMethodField(help_text="What can still be refunded.")
    actions = serializers.SerializerMethodField(help_text="The staff actions the order's status allows now.")

    @extend_schema_field(StaffDisputeSerializer(many=True))
    def get_disputes(self, order: Order) -> list[dict[str, Any]]:
        disputes = [d for p in order.payments.all() for d in p.disputes.all()]
        return StaffDisputeSerializer(disputes, many=True).data  # type: ignore[return-value]

    @extend_schema_field(MoneySerializer)
    def get_refundable(self, order: Order) -> dict[str, Any]:
        return money_json(self.context["refundable"], order.currency)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, order: Order) -> list[str]:
        return list(self.context["actions"])


class RefundRequestSerializer(StrictSerializer):
    amount = StrictIntegerField(
        min_value=1,
        max_value=MAX_AMOUNT,
        required=False,
        help_text="Minor units of the order's currency; omitted: everything still refundable.",
    )
    reason = serializers.CharField(max_length=255, allow_blank=True, default="", help_text="Shown on the timeline.")


class RefundResponseSerializer(serializers.Serializer):
    refund = StaffRefundSerializer()
    order = StaffOrderSerializer()


class CancelRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why; recorded on the timeline.")


class ApproveRequestSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500, allow_blank=True, default="")


class NoteRequestSerializer(StrictSerializer):
    text = serializers.CharField(max_length=2000, help_text="Shown on the order's timeline to staff only.")


class ShipmentRequestSerializer(StrictSerializer):
    carrier = serializers.CharField(max_length=64)
    tracking_number = serializers.CharField(max_length=128)
    tracking_url = serializers.URLField(max_length=200, allow_blank=True, default="")


class OutsidePaymentRequestSerializer(StrictSerializer):
    amount = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="Minor units; must equal the order total.")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217; must be the order's currency.")
    reference = serializers.CharField(
        max_length=255, help_text='Your reference for the payment (bank slip number...). Unique per "manual" source.'
    )

    def validate_currency(self, value: str) -> str:
        try:
            return normalize_currency(value)
        except MoneyError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class OutsidePaymentResponseSerializer(serializers.Serializer):
    applied = serializers.BooleanField(help_text="False when this reference was already recorded (nothing changed).")
    detail = serializers.CharField()
    order = StaffOrderSerializer()
