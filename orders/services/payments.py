"""Payments: mirror what Stripe says about a PaymentIntent onto the payment row and the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.coverage import Coverage, order_coverage
from orders.models import Order, Payment
from orders.models.payments import PaymentMethod
from orders.services.order_events import Cause, record_order_event
from orders.services.snapshots import snapshot_supersedes
from orders.services.transitions import (
    lock_order,
    order_cancel_locked,
    order_mark_awaiting_payment_locked,
    order_mark_needs_attention_locked,
    order_mark_paid_locked,
    order_mark_payment_failed_locked,
)
from orders.state_machine import PAID_STATUSES, OrderStatus, is_transition_allowed
from payops.stripe.gateway import PaymentIntentData

# What each PaymentIntent status means for the order, when the transition table allows it.
_ORDER_STATUS_FOR_INTENT = {
    "requires_action": OrderStatus.AWAITING_PAYMENT,
    "processing": OrderStatus.AWAITING_PAYMENT,
    "succeeded": OrderStatus.PAID,
    "canceled": OrderStatus.CANCELLED,
}


def payment_expiry_for(*, method: str, intent: PaymentIntentData | None, now: dt.datetime) -> dt.datetime:
    """When an unpaid order stops holding stock for this payment method."""
    if method == "konbini" and intent and intent.next_action:
        expires_at = (intent.next_action.get("konbini_display_details") or {}).get("expires_at")
        if expires_at:
            return dt.datetime.fromtimestamp(int(expires_at), tz=dt.UTC)
    if method == "konbini":
        return now + dt.timedelta(days=settings.PAYOPS_KONBINI_EXPIRES_AFTER_DAYS)
    if method == "bank_transfer":
        return now + dt.timedelta(days=settings.PAYOPS_BANK_TRANSFER_EXPIRES_AFTER_DAYS)
    return now + dt.timedelta(minutes=settings.PAYOPS_CARD_EXPIRES_AFTER_MINUTES)


# How far a PaymentIntent has come. Stripe moves an intent forward, except that a failed attempt
# sends it back to requires_payment_method; "creating" is payops's own row before the intent.
_INTENT_STAGE = {
    "creating": 0,
    "requires_payment_method": 1,
    "requires_confirmation": 2,
    "requires_action": 3,
    "processing": 4,
    "requires_capture": 5,
    "succeeded": 6,
    "canceled": 6,
}
# Nothing follows these in Stripe: a snapshot with another status is older, whatever its time.
FINAL_INTENT_STATUSES = frozenset({"succeeded", "canceled"})


def _intent_progress(status: str, amount_received: int, amount_remaining: int | None) -> tuple[int, int, int]:
    # Within one stage, more money received and less still due (bank transfer funded in parts)
    # is further along.
    return (_INTENT_STAGE.get(status, 0), amount_received, -(amount_remaining or 0))


def intent_snapshot_applies(
    *, payment: Payment, intent: PaymentIntentData, event_created: int | None, fresh: bool = False
) -> bool:
    """Whether ``intent`` may replace what ``payment`` holds; the caller holds the order lock.

    ``event_created`` is the ``created`` of the event that carried the snapshot, or None for an
    answer of Stripe's API (checkout, cancel, retrieve), which has no time to compare: such an
    answer only moves a payment forward. ``fresh``: read from Stripe after an event of the same
    second as the stored one, so it settles that tie.
    """
    if payment.status in FINAL_INTENT_STATUSES and intent.status != payment.status:
        return False
    stored = _intent_progress(payment.status, payment.amount_received, payment.amount_remaining)
    offered = _intent_progress(intent.status, intent.amount_received, intent.amount_remaining)
    if event_created is None:
        return offered >= stored
    if fresh and payment.last_event_created == event_created:
        return True
    return snapshot_supersedes(
        stored_created=payment.last_event_created, created=event_created, stored_progress=stored, progress=offered
    )


def payment_record_intent(
    *, order: Order, payment: Payment, intent: PaymentIntentData, event_created: int | None, fresh: bool = False
) -> bool:
    """Copy a PaymentIntent snapshot onto its payment unless what it holds is newer.

    The caller holds the order's row lock (every writer of a payment takes it first). Returns
    whether the snapshot was applied.
    """
    if payment.intent_id not in (None, intent.id) or not intent_snapshot_applies(
        payment=payment, intent=intent, event_created=event_created, fresh=fresh
    ):
        return False
    payment.intent_id = intent.id
    payment.status = intent.status
    # Stripe's amount and currency, not what checkout asked for: they decide whether the money
    # covers the order (orders/coverage.py).
    payment.amount = intent.amount
    payment.currency = intent.currency
    # Stripe never takes back money it reported received (refunds are counted separately).
    payment.amount_received = max(payment.amount_received, intent.amount_received)
    payment.client_secret = intent.client_secret
    payment.next_action = intent.next_action
    payment.amount_remaining = intent.amount_remaining
    if intent.failure_code or intent.failure_message:
        payment.failure_code = intent.failure_code[:64]
        payment.failure_message = intent.failure_message[:500]
    if event_created is not None:
        payment.last_event_created = max(event_created, payment.last_event_created or 0)
    payment.save()

    if intent.status == "requires_action":
        order.payment_expires_at = payment_expiry_for(method=payment.method, intent=intent, now=timezone.now())
        order.save(update_fields=["payment_expires_at", "updated_at"])
    return True


@transaction.atomic
def payment_apply_intent(
    *, payment_id: int, intent: PaymentIntentData, cause: Cause, move_order: bool = True
) -> Payment:
    """Record an answer of Stripe's API about a PaymentIntent and move the order if the table allows.

    A move the table does not allow (a stale "requires_action" for an order already paid) is
    not an error here: Stripe's view is applied to the payment row, the order keeps its status.
    """
    order = lock_order(Payment.objects.values_list("order_id", flat=True).get(pk=payment_id))
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment_record_intent(order=order, payment=payment, intent=intent, event_created=None)
    if move_order:
        move_order_for_intent(order, payment, cause)
    return payment


def payment_is_superseded(payment: Payment) -> bool:
    """Whether the order has a newer Stripe payment than this one (it was paid again another way)."""
    newer = Payment.objects.filter(order_id=payment.order_id, pk__gt=payment.pk)
    return newer.exclude(method=PaymentMethod.OUTSIDE).exists()


def move_order_for_intent(order: Order, payment: Payment, cause: Cause, *, coverage: Coverage | None = None) -> None:
    """Move an unpaid order to where its PaymentIntent's status says it is, if the table allows.

    Money completes an order only when it is in the order's currency and covers its total
    (orders/coverage.py); otherwise, and for money that arrives on a cancelled order, a person
    decides. Money for an order already paid is an over-payment: a person refunds the surplus.
    An order already waiting for a person is never moved on by a payment snapshot.

    The caller holds ``order`` locked; it is moved in place. ``coverage``: the order's money, if
    the caller has it already.
    """
    if order.status == OrderStatus.NEEDS_ATTENTION:
        return
    target = _ORDER_STATUS_FOR_INTENT.get(payment.status)
    if payment.status == "requires_payment_method" and payment.failure_code:
        target = OrderStatus.PAYMENT_FAILED
    data = {"payment_intent": payment.intent_id, "method": payment.method}
    if target == OrderStatus.PAID and order.status in PAID_STATUSES:
        _flag_over_payment(order, payment, cause, data, coverage or order_coverage(order))
        return
    if target is None or target == order.status:
        return
    if target != OrderStatus.PAID and payment_is_superseded(payment):
        # The shopper chose to pay again another way: the old intent failing or being cancelled
        # says nothing about the order. Money arriving on it still counts (PAID, above and below).
        return
    if target == OrderStatus.PAID:
        _complete_order_if_covered(order, payment, cause, data, coverage or order_coverage(order))
        return
    if not is_transition_allowed(order.status, target):
        return
    if target == OrderStatus.AWAITING_PAYMENT:
        order_mark_awaiting_payment_locked(order, cause=cause, data=data)
    elif target == OrderStatus.PAYMENT_FAILED:
        order_mark_payment_failed_locked(
            order, cause=cause, reason_code=payment.failure_code, reason_message=payment.failure_message
        )
    elif target == OrderStatus.CANCELLED:
        order_cancel_locked(order, cause=cause, reason="payment_intent_canceled")


def _complete_order_if_covered(
    order: Order, payment: Payment, cause: Cause, data: dict[str, Any], coverage: Coverage
) -> None:
    data = {**data, "amount_received": payment.amount_received}
    if payment.currency != order.currency:
        problem = {**data, "reason": "currency_mismatch", "currency_received": payment.currency}
    elif not coverage.covered:
        problem = {**data, "reason": "amount_short", "amount_received": coverage.received, "amount_due": coverage.due}
    elif not is_transition_allowed(order.status, OrderStatus.PAID):
        problem = {**data, "reason": f"paid_when_{order.status}"}
    else:
        order_mark_paid_locked(order, cause=cause, data=data)
        return
    if is_transition_allowed(order.status, OrderStatus.NEEDS_ATTENTION):
        order_mark_needs_attention_locked(order, cause=cause, data=problem)


def _flag_over_payment(order: Order, payment: Payment, cause: Cause, data: dict[str, Any], coverage: Coverage) -> None:
    """A payment succeeded on an order its other payments already cover (paid twice: a voucher
    and a bank deposit, two cards). Raised once per payment: an alert event, and the order goes to
    a person where the lifecycle allows (a shipped order keeps its status; the alert stands)."""
    if coverage.surplus <= 0 or order.events.filter(type="payment.over_payment", data__payment=payment.pk).exists():
        return
    facts = {
        **data,
        "payment": payment.pk,
        "surplus": coverage.surplus,
        "amount_received": coverage.received,
        "amount_due": coverage.due,
    }
    record_order_event(order=order, type="payment.over_payment", cause=cause, data=facts)
    if is_transition_allowed(order.status, OrderStatus.NEEDS_ATTENTION):
        order_mark_needs_attention_locked(order, cause=cause, data={**facts, "reason": "over_payment"})
