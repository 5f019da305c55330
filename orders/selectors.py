"""Reads of orders for pages, the API and live updates."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderEvent, Payment
from orders.presentation import money_json, next_action_for

# token_urlsafe(24) gives 32 characters; anything else cannot be a token.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_token_shaped(token: str) -> bool:
    return bool(_TOKEN_SHAPE.match(token))


def _detailed_orders() -> QuerySet[Order]:
    return Order.objects.select_related("customer").prefetch_related(
        "lines",
        Prefetch("payments", queryset=Payment.objects.order_by("-pk")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("sequence")),
    )


def _with_current_payment(order: Order) -> Order:
    payments = list(order.payments.all())
    # The newest Stripe payment is what the shopper acts on; an outside payment has no next step.
    order.current_payment = payments[0] if payments else None  # type: ignore[attr-defined]
    return order


def order_for_status_page(*, token: str) -> Order:
    if not is_token_shaped(token):
        raise Order.DoesNotExist
    return _with_current_payment(_detailed_orders().get(token=token))


def order_with_details(*, order_id: int) -> Order:
    return _with_current_payment(_detailed_orders().get(pk=order_id))


def order_snapshot(order: Order) -> dict[str, Any]:
    """The state a client shows: the same facts as the status page, as JSON."""
    payment: Payment | None = order.current_payment  # type: ignore[attr-defined]
    return {
        "number": order.number,
        "status": order.status,
        "status_display": str(order.get_status_display()),
        "sequence": order.last_event_sequence,
        "total": money_json(order.total_amount, order.currency),
        "payment": None
        if payment is None
        else {
            "method": payment.method,
            "status": payment.status,
            "amount_received": money_json(payment.amount_received, payment.currency),
            "next_action": next_action_for(payment),
            "failure": {"code": payment.failure_code, "message": payment.failure_message}
            if payment.failure_code
            else None,
        },
        "payment_expires_at": order.payment_expires_at.isoformat() if order.payment_expires_at else None,
    }
