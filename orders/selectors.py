"""Reads of orders for pages and the API."""

from __future__ import annotations

import re

from django.db.models import Prefetch

from orders.models import Order, OrderEvent, Payment

# token_urlsafe(24) gives 32 characters; anything else cannot be a token.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def order_for_status_page(*, token: str) -> Order:
    if not _TOKEN_SHAPE.match(token):
        raise Order.DoesNotExist
    order = (
        Order.objects.select_related("customer")
        .prefetch_related(
            "lines",
            Prefetch("payments", queryset=Payment.objects.order_by("-pk")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("sequence")),
        )
        .get(token=token)
    )
    payments = list(order.payments.all())
    order.current_payment = payments[0] if payments else None  # type: ignore[attr-defined]
    return order
