"""Reads of orders for pages, the API and live updates, and what staff may do with an order."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet, Sum

from orders.models import Order, OrderEvent, Payment
from orders.presentation import money_json, next_action_for, payment_failure_json
from orders.state_machine import UNPAID_STATUSES, OrderStatus, is_transition_allowed
from payops.money import Money
from payops.staff.levels import StaffLevel, user_has_level
from payops.workflow.models import ExecutionStatus, StepStatus, WorkflowExecution

AnyUser = AbstractBaseUser | AnonymousUser

# token_urlsafe(24) gives 32 characters; anything else cannot be a token.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_token_shaped(token: str) -> bool:
    return bool(_TOKEN_SHAPE.match(token))


# Events staff write about their own work (notes, audit records of staff actions): for staff
# pages and the staff API only, never for the shopper's page, API or live updates.
STAFF_ONLY_EVENT_PREFIX = "staff."


def is_staff_only_event(event_type: str) -> bool:
    return event_type.startswith(STAFF_ONLY_EVENT_PREFIX)


def _detailed_orders() -> QuerySet[Order]:
    """Orders as shoppers see them (their status page, API and live updates)."""
    shopper_events = OrderEvent.objects.exclude(type__startswith=STAFF_ONLY_EVENT_PREFIX).order_by("sequence")
    return Order.objects.select_related("customer").prefetch_related(
        "lines",
        "shipments",
        Prefetch("payments", queryset=Payment.objects.order_by("-pk")),
        Prefetch("events", queryset=shopper_events),
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
            "failure": payment_failure_json(payment),
        },
        "payment_expires_at": order.payment_expires_at.isoformat() if order.payment_expires_at else None,
    }


# --- what staff may do with an order ---------------------------------------------------------

# Every staff action on one order, in the order edges list them.
ORDER_STAFF_ACTIONS = ("refund", "cancel", "approve", "reject", "ship", "deliver", "record_payment", "note")

# The staff level each action needs (payops/staff/levels.py). The dashboard's offer, the API's
# permission gate and the staff layer's own check all read this one table.
STAFF_ACTION_LEVELS: dict[str, StaffLevel] = {
    "refund": StaffLevel.REFUND,
    "cancel": StaffLevel.OPERATE,
    "approve": StaffLevel.OPERATE,
    # Rejecting runs the fulfilment workflow's compensation, a full refund: it is a refund
    # decision, so it needs the refund level (docs/adr/0016-one-staff-layer.md).
    "reject": StaffLevel.REFUND,
    "ship": StaffLevel.OPERATE,
    "deliver": StaffLevel.OPERATE,
    "record_payment": StaffLevel.OPERATE,
    "note": StaffLevel.OPERATE,
    "mail_resend": StaffLevel.OPERATE,
    "outbox_retry": StaffLevel.OPERATE,
    "webhook_replay": StaffLevel.OPERATE,
    "stock_adjust": StaffLevel.OPERATE,
}


# Refund rows Stripe has (its charge's amount_refunded counts them once it tells us), and ours
# that Stripe has not answered yet: both hold money back from being refunded twice.
_REFUNDS_AT_STRIPE = ("pending", "requires_action", "succeeded")
_REFUNDS_NOT_YET_AT_STRIPE = ("requested",)


def refundable_amount(payment: Payment) -> int:
    """What is left to refund of ``payment``: received, less refunds asked for or done.

    Stripe's ``amount_refunded`` may include refunds we have no row for (made in its dashboard),
    so it is compared with our rows Stripe knows; refunds Stripe has not heard of come on top.
    """
    at_stripe = _refund_total(payment, _REFUNDS_AT_STRIPE)
    not_yet = _refund_total(payment, _REFUNDS_NOT_YET_AT_STRIPE)
    return max(payment.amount_received - max(at_stripe, payment.amount_refunded) - not_yet, 0)


def _refund_total(payment: Payment, statuses: tuple[str, ...]) -> int:
    return payment.refunds.filter(status__in=statuses).aggregate(total=Sum("amount"))["total"] or 0


def refundable_payment(order: Order) -> Payment | None:
    """The payment a refund of the order goes to: its newest succeeded Stripe payment. Money
    recorded outside Stripe has no PaymentIntent to refund through, so it never is one."""
    payments = [p for p in order.payments.all() if p.status == "succeeded" and p.intent_id]
    return max(payments, key=lambda p: p.pk, default=None)


def order_refundable(order: Order) -> Money | None:
    """What can still be refunded on the order (None: nothing was paid through Stripe)."""
    payment = refundable_payment(order)
    return None if payment is None else Money(refundable_amount(payment), payment.currency)


def approval_waiting_execution(order_id: int) -> WorkflowExecution | None:
    """The order's workflow execution that waits for a person's decision, if any."""
    return (
        WorkflowExecution.objects.filter(
            order_id=order_id,
            status=ExecutionStatus.RUNNING,
            steps__kind="approval",
            steps__status=StepStatus.WAITING,
        )
        .order_by("pk")
        .first()
    )


def allowed_staff_actions(order: Order, *, user: AnyUser | None = None) -> tuple[str, ...]:
    """The actions the order's state allows now, in ``ORDER_STAFF_ACTIONS`` order; with ``user``,
    only those their level allows too. The staff layer checks both again when the action comes."""
    refund_to = refundable_payment(order)
    waiting = approval_waiting_execution(order.pk) is not None
    status = order.status
    allowed = {
        "refund": refund_to is not None and refundable_amount(refund_to) > 0,
        "cancel": status in UNPAID_STATUSES,
        # An order held without a workflow is approved directly; rejecting is the workflow's
        # compensation path, so it needs a workflow that waits for the decision.
        "approve": status == OrderStatus.AWAITING_APPROVAL or waiting,
        "reject": waiting,
        "ship": is_transition_allowed(status, OrderStatus.SHIPPED),
        "deliver": status == OrderStatus.SHIPPED,
        "record_payment": is_transition_allowed(status, OrderStatus.PAID),
        "note": True,
    }
    return tuple(
        action
        for action in ORDER_STAFF_ACTIONS
        if allowed[action] and (user is None or user_has_level(user, STAFF_ACTION_LEVELS[action]))
    )
