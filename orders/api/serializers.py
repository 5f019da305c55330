"""Request parsing and response shapes of the orders API. No business logic lives here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from orders.models import Order, Payment, Product
from orders.models.payments import PaymentMethod
from orders.presentation import money_json, next_action_for


class StrictIntegerField(serializers.IntegerField):
    """An integer that must be a JSON integer: not "3", not 3.0, not true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not allowed."] for name in unknown})
        return super().to_internal_value(data)


class CheckoutItemSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=settings.PAYOPS_MAX_LINE_QUANTITY)


class CheckoutRequestSerializer(StrictSerializer):
    items = CheckoutItemSerializer(many=True, allow_empty=False, max_length=settings.PAYOPS_MAX_CHECKOUT_ITEMS)
    email = serializers.EmailField(max_length=254)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.values)
    locale = serializers.ChoiceField(choices=["ja", "en"])
    # A Stripe PaymentMethod id (pm_...) to confirm a card at once; without it the frontend
    # confirms the card itself with the returned client_secret.
    payment_method_id = serializers.RegexField(r"^pm_[A-Za-z0-9_]{1,200}$", required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        skus = [item["sku"] for item in attrs["items"]]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise serializers.ValidationError({"items": [f"SKU {sku!r} appears more than once." for sku in duplicates]})
        if attrs.get("payment_method_id") and attrs["payment_method"] != PaymentMethod.CARD:
            raise serializers.ValidationError({"payment_method_id": ["Only card payments take a payment_method_id."]})
        return attrs


class ProductSerializer(serializers.ModelSerializer):
    price = serializers.SerializerMethodField()
    available = serializers.IntegerField(source="stock_available")

    class Meta:
        model = Product
        fields = ["sku", "name", "name_ja", "description", "price", "available", "is_digital"]

    def get_price(self, product: Product) -> dict[str, Any]:
        return money_json(product.price_amount, product.currency)


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.intent_id,
        "method": payment.method,
        "status": payment.status,
        "amount": money_json(payment.amount, payment.currency),
        "amount_received": money_json(payment.amount_received, payment.currency),
        "client_secret": payment.client_secret or None,
        "next_action": next_action_for(payment),
        "failure": {"code": payment.failure_code, "message": payment.failure_message} if payment.failure_code else None,
    }


def order_json(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "token": order.token,
        "status": order.status,
        "status_url": order.status_url,
        "total": money_json(order.total_amount, order.currency),
        "locale": order.locale,
        "payment_expires_at": order.payment_expires_at.isoformat() if order.payment_expires_at else None,
        "created_at": order.created_at.isoformat(),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": money_json(line.unit_price_amount, order.currency),
                "total": money_json(line.unit_price_amount * line.quantity, order.currency),
            }
            for line in order.lines.all()
        ],
    }
