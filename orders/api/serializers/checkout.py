"""The checkout request, and the order and payment it answers with (the Foundation contract)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from orders.api.serializers.common import (
    MoneyField,
    NextActionField,
    OrderLineSerializer,
    PaymentFailureField,
    StrictIntegerField,
    StrictSerializer,
    UtcDateTimeField,
)
from orders.models.payments import PaymentMethod
from orders.services.checkout import shopper_payment_methods

# Named once for the schema (ShopperPaymentMethodEnum), used by checkout and by paying again.
SHOPPER_PAYMENT_METHOD_CHOICES = [method.value for method in shopper_payment_methods()]


class CheckoutItemSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=settings.PAYOPS_MAX_LINE_QUANTITY)


class CheckoutRequestSerializer(StrictSerializer):
    items = CheckoutItemSerializer(  # type: ignore[call-arg]  # many=True passes the list's own options on
        many=True,
        allow_empty=False,
        max_length=settings.PAYOPS_MAX_CHECKOUT_ITEMS,
        help_text="Each SKU at most once.",
    )
    email = serializers.EmailField(max_length=254)
    payment_method = serializers.ChoiceField(
        choices=SHOPPER_PAYMENT_METHOD_CHOICES,
        help_text="card, konbini (JPY, ¥120–¥300,000) or bank_transfer (JPY).",
    )
    locale = serializers.ChoiceField(choices=["ja", "en"], help_text="Language of the order page and mails.")
    payment_method_id = serializers.RegexField(
        r"^pm_[A-Za-z0-9_]{1,200}$",
        required=False,
        help_text="A Stripe PaymentMethod id (pm_...) to confirm a card at once; without it the frontend "
        "confirms the card itself with the returned client_secret.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        skus = [item["sku"] for item in attrs["items"]]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise serializers.ValidationError({"items": [f"SKU {sku!r} appears more than once." for sku in duplicates]})
        if attrs.get("payment_method_id") and attrs["payment_method"] != PaymentMethod.CARD:
            raise serializers.ValidationError({"payment_method_id": ["Only card payments take a payment_method_id."]})
        return attrs


class PaymentRetryRequestSerializer(StrictSerializer):
    payment_method = serializers.ChoiceField(
        choices=SHOPPER_PAYMENT_METHOD_CHOICES,
        help_text="card, konbini (JPY, ¥120–¥300,000) or bank_transfer (JPY); may differ from the first attempt's.",
    )
    payment_method_id = serializers.RegexField(
        r"^pm_[A-Za-z0-9_]{1,200}$",
        required=False,
        help_text="A Stripe PaymentMethod id (pm_...) to confirm a card at once.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("payment_method_id") and attrs["payment_method"] != PaymentMethod.CARD:
            raise serializers.ValidationError({"payment_method_id": ["Only card payments take a payment_method_id."]})
        return attrs


class CheckoutOrderSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="The order number shoppers and staff quote, e.g. PO-4KQ7-ZP2M.")
    token = serializers.CharField(
        help_text="The shopper's secret for this one order: GET /api/v1/orders/{token}/ and the status page."
    )
    status = serializers.CharField(help_text="The order's status (see the order status enum in the staff API).")
    status_url = serializers.URLField(help_text="The shopper's order page.")
    total = MoneyField("total_amount")
    locale = serializers.CharField()
    payment_expires_at = UtcDateTimeField(
        allow_null=True, help_text="When an unpaid order gives its stock back (voucher or transfer deadline)."
    )
    created_at = UtcDateTimeField()
    lines = OrderLineSerializer(many=True, source="lines.all")


class CheckoutPaymentSerializer(serializers.Serializer):
    id = serializers.CharField(source="intent_id", help_text="The Stripe PaymentIntent id.")
    method = serializers.CharField()
    status = serializers.CharField(help_text="Stripe's PaymentIntent status.")
    amount = MoneyField("amount")
    amount_received = MoneyField("amount_received")
    client_secret = serializers.SerializerMethodField(
        help_text="For Stripe.js on the shopper's device (card confirmation, 3-D Secure); null when not needed."
    )
    next_action = NextActionField()
    failure = PaymentFailureField()

    def get_client_secret(self, payment: Any) -> str | None:
        return payment.client_secret or None


class CheckoutResponseSerializer(serializers.Serializer):
    order = CheckoutOrderSerializer()
    payment = CheckoutPaymentSerializer()
