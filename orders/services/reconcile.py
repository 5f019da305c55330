"""Move an order to where the facts recorded on its payments say it is.

Called once per Stripe event (or refund answer), after its facts are recorded, with the order row
locked by the caller. It reads the order's money once (payments and refunds), works on the
locked order in place (no second lock, no reload), only ever takes moves the transition table
allows, and takes them in a fixed order (payment, then disputes, then refunds), so the same facts
lead to the same status whatever order they arrived in.
"""

from __future__ import annotations

from orders.coverage import Coverage, order_coverage
from orders.models import Dispute, Order, Payment
from orders.services.order_events import Cause
from orders.services.payments import move_order_for_intent
from orders.services.transitions import (
    order_mark_disputed_locked,
    order_mark_refunded_locked,
    order_return_from_dispute_locked,
)
from orders.state_machine import OrderStatus, is_transition_allowed

# Statuses in which money is held for the order and a refund changes its status.
_REFUNDABLE = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.FULFILLING,
        OrderStatus.AWAITING_APPROVAL,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
        OrderStatus.PARTIALLY_REFUNDED,
    }
)


def order_reconcile(*, order: Order, payment: Payment, cause: Cause) -> None:
    coverage = order_coverage(order)
    # Once money is held, the intent moves the order no more (a won dispute must return it to
    # where it was, not to "paid"); a second payment that succeeds is an over-payment.
    move_order_for_intent(order, payment, cause, coverage=coverage)
    _reconcile_disputes(order, payment, cause)
    _reconcile_refunds(order, coverage, cause)


def _reconcile_disputes(order: Order, payment: Payment, cause: Cause) -> None:
    disputes = list(Dispute.objects.filter(payment=payment).order_by("pk"))
    if not disputes:
        return
    open_dispute = next((d for d in disputes if d.is_open), None)
    if open_dispute is not None:
        if order.status != OrderStatus.DISPUTED and is_transition_allowed(order.status, OrderStatus.DISPUTED):
            Dispute.objects.filter(pk=open_dispute.pk).update(order_status_before=order.status)
            order_mark_disputed_locked(order, cause=cause, dispute_id=open_dispute.dispute_id)
        return
    lost = next((d for d in disputes if d.status == "lost"), None)
    if lost is not None:
        if order.status != OrderStatus.REFUNDED and is_transition_allowed(order.status, OrderStatus.REFUNDED):
            order_mark_refunded_locked(order, cause=cause, data={"dispute": lost.dispute_id, "outcome": "lost"})
        return
    if order.status == OrderStatus.DISPUTED:
        before = disputes[-1].order_status_before or OrderStatus.PAID
        order_return_from_dispute_locked(order, cause=cause, status=before)


def _reconcile_refunds(order: Order, coverage: Coverage, cause: Cause) -> None:
    """Refunds are weighed against all the money the order holds: refunding the surplus of an
    order paid twice leaves it paid, not "partially refunded"."""
    if order.status not in _REFUNDABLE:
        return
    if coverage.refunded <= 0:
        return
    kept = coverage.received - coverage.refunded
    if kept >= coverage.due:
        return
    target = OrderStatus.REFUNDED if kept <= 0 else OrderStatus.PARTIALLY_REFUNDED
    if target == order.status or not is_transition_allowed(order.status, target):
        return
    order_mark_refunded_locked(
        order,
        cause=cause,
        data={"amount_refunded": coverage.refunded},
        partial=target != OrderStatus.REFUNDED,
    )
