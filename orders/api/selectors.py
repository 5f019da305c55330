"""Reads behind the staff endpoints: querysets with what their serializers touch, prefetched."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderEvent, Payment, Refund
from orders.selectors import allowed_staff_actions, refundable_amount, refundable_payment


def staff_orders() -> QuerySet[Order]:
    return Order.objects.select_related("customer").prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("-pk"))
    )


def staff_order_detail(*, number: str) -> Order:
    order = Order.objects.select_related("customer").prefetch_related(
        "lines",
        Prefetch(
            "payments",
            queryset=Payment.objects.order_by("-pk").prefetch_related(
                Prefetch("refunds", queryset=Refund.objects.select_related("requested_by")), "disputes"
            ),
        ),
        Prefetch("shipments"),
        Prefetch("events", queryset=OrderEvent.objects.select_related("staff_user").order_by("sequence")),
    )
    found = order.get(number=number)
    payments = list(found.payments.all())
    found.current_payment = payments[0] if payments else None  # type: ignore[attr-defined]
    return found


def staff_order_context(order: Order) -> dict[str, Any]:
    """What staff may do with the order now (``actions``) and how much is left to refund."""
    payment = refundable_payment(order)
    return {
        "refundable": refundable_amount(payment) if payment else 0,
        "actions": list(allowed_staff_actions(order)),
    }
