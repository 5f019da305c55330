"""Payments: mirror what Stripe says about a PaymentIntent onto the payment row and the order."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.models import Order, Payment
from orders.services.order_events import Cause
from orders.services.transitions import (
    lock_order,
    order_cancel,
    order_mark_awaiting_payment,
    order_mark_paid,
    order_mark_payment_failed,
)
from orders.state_machine import OrderStatus, is_transition_allowed
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


@transaction.atomic
def payment_apply_intent(
    *, payment_id: int, intent: PaymentIntentData, cause: Cause, move_order: bool = True
) -> Payment:
    """Copy a PaymentIntent snapshot onto its payment and move the order if the table allows.

    A move the table does not allow (a stale "requires_action" for an order already paid) is
    not an error here: Stripe's view is applied to the payment row, the order keeps its status.
    """
    order = lock_order(Payment.objects.values_list("order_id", flat=True).get(pk=payment_id))
    payment = Payment.objects.select_for_update().get(pk=payment_id)

    payment.intent_id = intent.id
    payment.status = intent.status
    payment.amount_received = intent.amount_received
    payment.client_secret = intent.client_secret
    payment.next_action = intent.next_action
    payment.amount_remaining = intent.amount_remaining
    if intent.failure_code or intent.failure_message:
        payment.failure_code = intent.failure_code[:64]
        payment.failure_message = intent.failure_message[:500]
    payment.save()

    if intent.status == "requires_action":
        order.payment_expires_at = payment_expiry_for(method=payment.method, intent=intent, now=timezone.now())
        order.save(update_fields=["payment_expires_at", "updated_at"])
    if move_order:
        move_order_for_intent(order, payment, cause)
    return payment


def move_order_for_intent(order: Order, payment: Payment, cause: Cause) -> None:
    """Move an unpaid order to where its PaymentIntent's status says it is, if the table allows."""
    target = _ORDER_STATUS_FOR_INTENT.get(payment.status)
    if payment.status == "requires_payment_method" and payment.failure_code:
        target = OrderStatus.PAYMENT_FAILED
    if target is None or target == order.status or not is_transition_allowed(order.status, target):
        return
    data = {"payment_intent": payment.intent_id, "method": payment.method}
    if target == OrderStatus.PAID:
        order_mark_paid(order_id=order.pk, cause=cause, data={**data, "amount_received": payment.amount_received})
    elif target == OrderStatus.AWAITING_PAYMENT:
        order_mark_awaiting_payment(order_id=order.pk, cause=cause, data=data)
    elif target == OrderStatus.PAYMENT_FAILED:
        order_mark_payment_failed(
            order_id=order.pk, cause=cause, reason_code=payment.failure_code, reason_message=payment.failure_message
        )
    elif target == OrderStatus.CANCELLED:
        order_cancel(order_id=order.pk, cause=cause, reason="payment_intent_canceled")
