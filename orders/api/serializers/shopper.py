"""The order as its shopper sees it through the order token: status, lines, next step, timeline."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.serializers.common import (
    MoneyField,
    NextActionField,
    OrderLineSerializer,
    PaymentFailureField,
    UtcDateTimeField,
)
from orders.models import Order
from orders.selectors import is_staff_only_event
from orders.services.payment_retry import payment_retry_refusal
from orders.shopper_timeline import shopper_timeline


class ShopperPaymentSerializer(serializers.Serializer):
    method = serializers.CharField()
    status = serializers.CharField(help_text="Stripe's PaymentIntent status.")
    amount_received = MoneyField("amount_received")
    next_action = NextActionField()
    failure = PaymentFailureField()


class TimelineEventSerializer(serializers.Serializer):
    """One step of the shopper's timeline (orders/shopper_timeline.py): internal events are left out."""

    sequence = serializers.IntegerField(help_text="The event's sequence; increases with every event of the order.")
    type = serializers.CharField(help_text="e.g. order.created, order.paid, payment.partially_funded.")
    label = serializers.CharField(help_text="The step for people, in the order's language.")  # type: ignore[assignment]  # an API field named like a Serializer attribute
    detail = serializers.CharField(help_text="The amount, carrier or tracking number where there is one; may be empty.")
    link = serializers.CharField(help_text="A carrier's tracking page, or empty.")
    created_at = UtcDateTimeField(source="at")


class ShopperOrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.SerializerMethodField(help_text="The status for people, in the order's language.")
    sequence = serializers.IntegerField(
        source="last_event_sequence",
        help_text="The newest event's sequence; live updates with a lower one are older than this answer.",
    )
    total = MoneyField("total_amount")
    locale = serializers.CharField()
    created_at = UtcDateTimeField()
    payment_expires_at = UtcDateTimeField(allow_null=True)
    lines = OrderLineSerializer(many=True, source="lines.all")
    payment = serializers.SerializerMethodField(help_text="The payment the shopper acts on; null if none.")
    can_pay_again = serializers.SerializerMethodField(
        help_text="Whether POST /api/v1/orders/{token}/payments/ may pay for this order again another way now."
    )
    timeline = serializers.SerializerMethodField()

    def get_status_display(self, order: Order) -> str:
        return str(order.get_status_display())

    def get_can_pay_again(self, order: Order) -> bool:
        return payment_retry_refusal(order) is None

    @extend_schema_field(ShopperPaymentSerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        payment = order.current_payment  # type: ignore[attr-defined]
        return None if payment is None else ShopperPaymentSerializer(payment).data

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, order: Order) -> list[dict[str, Any]]:
        events = [e for e in order.events.all() if not is_staff_only_event(e.type)]
        return TimelineEventSerializer(shopper_timeline(order, events), many=True).data  # type: ignore[return-value]
