"""Shared steps for the simulator tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from payops.money import Money
from payops.simulator.models import SimEvent
from payops.stripe.gateway import PaymentIntentData, StripeGateway
from tests.simulator.conftest import SECRET_KEY

AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}


def create_card_intent(
    gateway: StripeGateway, *, payment_method: str, key: str = "order-1-card", return_url: str = ""
) -> PaymentIntentData:
    return gateway.create_payment_intent(
        amount=Money(1500, "JPY"),
        method="card",
        email="shopper@example.jp",
        idempotency_key=key,
        metadata={"order_number": "PO-1"},
        payment_method_id=payment_method,
        return_url=return_url,
    )


def create_konbini_intent(
    gateway: StripeGateway, *, amount: int = 1500, key: str = "order-1-konbini"
) -> PaymentIntentData:
    return gateway.create_payment_intent(
        amount=Money(amount, "JPY"),
        method="konbini",
        email="shopper@example.jp",
        idempotency_key=key,
        metadata={"order_number": "PO-1"},
        expires_after_days=3,
    )


def create_bank_transfer_intent(
    gateway: StripeGateway, *, amount: int = 10_000, key: str = "order-1-transfer", customer_id: str = ""
) -> PaymentIntentData:
    customer_id = customer_id or gateway.create_customer(email="shopper@example.jp", idempotency_key=f"{key}-customer")
    return gateway.create_payment_intent(
        amount=Money(amount, "JPY"),
        method="bank_transfer",
        email="shopper@example.jp",
        idempotency_key=key,
        metadata={"order_number": "PO-1"},
        customer_id=customer_id,
    )


def api_post(client: Client, path: str, data: dict[str, str], **headers: str) -> tuple[int, dict[str, Any], Any]:
    response = client.post(
        f"/simulator/stripe/v1/{path}",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers={**AUTH, **headers},
    )
    return response.status_code, json.loads(response.content), response


def event_types(object_id: str) -> list[str]:
    return list(SimEvent.objects.filter(object_id=object_id).order_by("pk").values_list("type", flat=True))


def event_payloads(event_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(body)
        for body in SimEvent.objects.filter(type=event_type).order_by("pk").values_list("body", flat=True)
    ]
