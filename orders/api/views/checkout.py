"""Checkout: a cart becomes an order holding stock, and its payment is set up with Stripe."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import PublicApiView
from orders.api.serializers.checkout import CheckoutRequestSerializer, CheckoutResponseSerializer
from orders.services.checkout import CartItem, checkout
from payops.api.schema import ProblemSerializer, documented_problem


class CheckoutProblemSerializer(ProblemSerializer):
    shortages = serializers.ListField(
        child=inline_serializer(
            "StockShortage",
            {
                "sku": serializers.CharField(),
                "requested": serializers.IntegerField(),
                "available": serializers.IntegerField(),
            },
        ),
        required=False,
        help_text="insufficient-stock: what could not be reserved.",
    )
    order = inline_serializer(
        "CheckoutFailedOrder",
        {"number": serializers.CharField(), "status": serializers.CharField(), "status_url": serializers.URLField()},
        required=False,
        help_text="payment-declined / payment-provider-unavailable: the order that was created; its stock is released.",
    )
    reason_code = serializers.CharField(required=False, help_text="Stripe's decline code, e.g. generic_decline.")


CHECKOUT_REQUEST_EXAMPLE = {
    "items": [{"sku": "TEA-SENCHA-100", "quantity": 2}],
    "email": "hanako@example.jp",
    "payment_method": "konbini",
    "locale": "ja",
}
CHECKOUT_RESPONSE_EXAMPLE = {
    "order": {
        "number": "PO-4KQ7-ZP2M",
        "token": "q9Xc3n0n7a9xJ1k2Zb8yPq4rT6uV0wLm",
        "status": "awaiting_payment",
        "status_url": "https://shop.example.jp/orders/q9Xc3n0n7a9xJ1k2Zb8yPq4rT6uV0wLm/",
        "total": {"amount": 3000, "currency": "JPY", "display": "¥3,000"},
        "locale": "ja",
        "payment_expires_at": "2026-05-04T14:59:59Z",
        "created_at": "2026-05-01T03:12:45Z",
        "lines": [
            {
                "sku": "TEA-SENCHA-100",
                "name": "Sencha, 100 g",
                "quantity": 2,
                "unit_price": {"amount": 1500, "currency": "JPY", "display": "¥1,500"},
                "total": {"amount": 3000, "currency": "JPY", "display": "¥3,000"},
            }
        ],
    },
    "payment": {
        "id": "pi_3PqExample",
        "method": "konbini",
        "status": "requires_action",
        "amount": {"amount": 3000, "currency": "JPY", "display": "¥3,000"},
        "amount_received": {"amount": 0, "currency": "JPY", "display": "¥0"},
        "client_secret": "pi_3PqExample_secret_abc",
        "next_action": {
            "type": "konbini",
            "expires_at": 1777906799,
            "hosted_voucher_url": "https://payments.stripe.com/konbini/voucher/test_1",
            "stores": {"familymart": {"payment_code": "123456", "confirmation_number": "12345678901"}},
        },
        "failure": None,
    },
}


class CheckoutApi(PublicApiView):
    throttle_scope = "checkout"

    @property
    def max_body_bytes(self) -> int:  # type: ignore[override]
        return int(settings.PAYOPS_CHECKOUT_BODY_LIMIT)

    @extend_schema(
        tags=["checkout"],
        operation_id="checkout_create",
        summary="Place an order and set up its payment",
        description="Reserves the stock, creates the order and its Stripe PaymentIntent, and answers with "
        "what the shopper must do next (`payment.next_action`): confirm the card, show the konbini "
        "voucher, or show the bank-transfer instructions. Payment completes later, by webhook; poll "
        "`GET /api/v1/orders/{token}/` or follow the order page.",
        request=CheckoutRequestSerializer,
        responses={
            201: CheckoutResponseSerializer,
            (400, "application/problem+json"): documented_problem(
                400,
                "unknown-sku",
                "Unknown sku",
                "unknown SKU 'NOPE'",
                "Invalid input (`validation-error`, `malformed-request`), an unknown SKU (`unknown-sku`), "
                "a cart that cannot be one order (`invalid-cart`), or a payment method the order cannot use "
                "(`payment-method-not-available`). `errors` names the field.",
                serializer=CheckoutProblemSerializer,
                errors={"items": ["unknown SKU 'NOPE'"]},
            ),
            (402, "application/problem+json"): documented_problem(
                402,
                "payment-declined",
                "Payment declined",
                "Your card was declined.",
                "The card was declined (`payment-declined`), or Stripe refused to set the payment up, e.g. for "
                "an unknown `payment_method_id` (`payment-setup-failed`). The order exists as `payment_failed` "
                "(in `order`), holds no stock, and nothing was charged.",
                serializer=CheckoutProblemSerializer,
                order={"number": "PO-4KQ7-ZP2M", "status": "payment_failed", "status_url": "https://…"},
                reason_code="generic_decline",
            ),
            (409, "application/problem+json"): documented_problem(
                409,
                "insufficient-stock",
                "Insufficient stock",
                "CUP: requested 3, available 2",
                "Not enough stock (`insufficient-stock`, with `shortages`); or another request with the same "
                "Idempotency-Key is running (`idempotency-key-in-use`).",
                serializer=CheckoutProblemSerializer,
                shortages=[{"sku": "CUP", "requested": 3, "available": 2}],
            ),
            (503, "application/problem+json"): documented_problem(
                503,
                "payment-provider-unavailable",
                "Payment provider unavailable",
                "Stripe could not be reached; nothing was charged.",
                "Stripe could not be reached; nothing was charged and the stock is released. Retry after "
                "`Retry-After` seconds.",
                serializer=CheckoutProblemSerializer,
            ),
        },
        examples=[
            OpenApiExample("konbini checkout", value=CHECKOUT_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "konbini voucher issued", value=CHECKOUT_RESPONSE_EXAMPLE, response_only=True, status_codes=[201]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = CheckoutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = checkout(
            items=[CartItem(sku=item["sku"], quantity=item["quantity"]) for item in data["items"]],
            email=data["email"],
            method=data["payment_method"],
            locale=data["locale"],
            payment_method_id=data.get("payment_method_id", ""),
            # A retry with the same Idempotency-Key continues the order this request makes.
            idempotency_key=self.idempotency_claim.binding if self.idempotency_claim else "",
        )
        return Response(CheckoutResponseSerializer(result).data, status=status.HTTP_201_CREATED)
