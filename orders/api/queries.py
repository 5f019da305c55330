"""Reads behind the staff endpoints: querysets with what their serializers touch, prefetched."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderEvent, Payment, Refund
from orders.services.refunds import refundable_amount
from orders.state_machine import UNPAID_STATUSES, OrderStatus, is_transition_allowed


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
    refundable = _refundable(order)
    status = order.status
    actions = []
    if refundable > 0:
        actions.append("refund")
    if status in UNPAID_STATUSES:
        actions.append("cancel")
    if status == OrderStatus.AWAITING_APPROVAL:
        actions += ["approve", "reject"]
    if is_transition_allowed(status, OrderStatus.SHIPPED):
        actions.append("ship")
    if is_transition_allowed(status, OrderStatus.PAID):
        actions.append("record_payment")
    return {"refundable": refundable, "actions": actions}


def _refundable(order: Order) -> int:
    # The payment order_refund would refund: the newest succeeded Stripe payment.
    payment = next((p for p in order.payments.all() if p.status == "succeeded" and p.intent_id), None)
    return refundable_amount(payment) if payment else 0
