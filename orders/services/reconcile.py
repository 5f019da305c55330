"""Move an order to where the facts recorded on its payment say it is.

Called after every Stripe fact is recorded, with the order row locked. It only ever takes
moves the transition table allows, and takes them in a fixed order (payment, then disputes,
then refunds), so the same facts lead to the same status whatever order they arrived in.
"""

from __future__ import annotations

from orders.coverage import order_coverage
from orders.models import Dispute, Order, Payment
from orders.services.order_events import Cause
from orders.services.payments import move_order_for_intent
from orders.services.transitions import order_mark_disputed, order_mark_refunded, order_return_from_dispute
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
    order.refresh_from_db()
    # Once money is held, the intent moves the order no more (a won dispute must return it to
    # where it was, not to "paid"); a second payment that succeeds is an over-payment.
    move_order_for_intent(order, payment, cause)
    order.refresh_from_db()
    _reconcile_disputes(order, payment, cause)
    order.refresh_from_db()
    _reconcile_refunds(order, payment, cause)
    order.refresh_from_db()


def _reconcile_disputes(order: Order, payment: Payment, cause: Cause) -> None:
    disputes = list(Dispute.objects.filter(payment=payment).order_by("pk"))
    if not disputes:
        return
    open_dispute = next((d for d in disputes if d.is_open), None)
    if open_dispute is not None:
        if order.status != OrderStatus.DISPUTED and is_transition_allowed(order.status, OrderStatus.DISPUTED):
            Dispute.objects.filter(pk=open_dispute.pk).update(order_status_before=order.status)
            order_mark_disputed(order_id=order.pk, cause=cause, dispute_id=open_dispute.dispute_id)
        return
    lost = next((d for d in disputes if d.status == "lost"), None)
    if lost is not None:
        if order.status != OrderStatus.REFUNDED and is_transition_allowed(order.status, OrderStatus.REFUNDED):
            order_mark_refunded(order_id=order.pk, cause=cause, data={"dispute": lost.dispute_id, "outcome": "lost"})
        return
    if order.status == OrderStatus.DISPUTED:
        before = disputes[-1].order_status_before or OrderStatus.PAID
        order_return_from_dispute(order_id=order.pk, cause=cause, status=before)


def _reconcile_refunds(order: Order, payment: Payment, cause: Cause) -> None:
    """Refunds are weighed against all the money the order holds: refunding the surplus of an
    order paid twice leaves it paid, not "partially refunded"."""
    if order.status not in _REFUNDABLE:
        return
    coverage = order_coverage(order)
    if coverage.refunded <= 0:
        return
    kept = coverage.received - coverage.refunded
    if kept >= coverage.due:
        return
    target = OrderStatus.REFUNDED if kept <= 0 else OrderStatus.PARTIALLY_REFUNDED
    if target == order.status or not is_transition_allowed(order.status, target):
        return
    order_mark_refunded(
        order_id=order.pk,
        cause=cause,
        data={"amount_refunded": coverage.refunded},
        partial=target != OrderStatus.REFUNDED,
    )
