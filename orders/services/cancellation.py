"""Cancelling an order that has not been paid: its PaymentIntents are cancelled at Stripe
first (so the shopper can no longer pay a voucher for stock we gave back), then the order."""

from __future__ import annotations

from orders.errors import ActionNotAllowed
from orders.models import Order
from orders.services.order_events import Cause
from orders.services.payment_cancellation import order_cancel_open_payment_intents
from orders.services.transitions import order_cancel
from orders.state_machine import UNPAID_STATUSES, OrderStatus


def order_cancel_unpaid(*, order_id: int, cause: Cause, reason: str) -> Order:
    order = Order.objects.get(pk=order_id)
    if order.status not in UNPAID_STATUSES:
        hint = " Refund it instead." if order.status in (OrderStatus.PAID, OrderStatus.FULFILLING) else ""
        raise ActionNotAllowed(
            f"order {order.number} is {order.get_status_display().lower()} and cannot be cancelled.{hint}"
        )
    order_cancel_open_payment_intents(order_id=order_id)
    order.refresh_from_db()
    if order.status not in UNPAID_STATUSES:  # the intent turned out to be paid: Stripe wins
        raise ActionNotAllowed(f"order {order.number} was paid meanwhile; refund it instead")
    return order_cancel(order_id=order_id, cause=cause, reason=reason)
