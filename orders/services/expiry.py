"""Expiry of unpaid orders: a konbini voucher or transfer window that passed, or a card
payment the shopper never confirmed. The order stops holding stock and its PaymentIntent is
cancelled, so money can no longer arrive for stock we gave away."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from orders.models import Order
from orders.services.order_events import Cause
from orders.services.payments import payment_apply_intent
from orders.services.transitions import lock_order, order_expire
from orders.state_machine import UNPAID_STATUSES
from payops.stripe.gateway import GatewayError, GatewayUnavailable, PaymentIntentData, StripeGateway, get_gateway

logger = logging.getLogger(__name__)

# Stripe confirms a konbini payment made at the last minute a little after the voucher's expiry.
EXPIRY_GRACE = dt.timedelta(minutes=30)
_CAUSE = Cause.system("expiry-sweep")


def expire_unpaid_orders(
    *, now: dt.datetime | None = None, gateway: StripeGateway | None = None, limit: int = 500
) -> int:
    """Expire every unpaid order past its payment window; returns how many were expired."""
    now = now or timezone.now()
    gateway = gateway or get_gateway()
    due = Order.objects.filter(status__in=UNPAID_STATUSES, payment_expires_at__lt=now - EXPIRY_GRACE)
    expired = 0
    for order_id in due.order_by("payment_expires_at").values_list("pk", flat=True)[:limit]:
        try:
            expired += order_expire_unpaid(order_id=order_id, now=now, gateway=gateway)
        except GatewayUnavailable:
            logger.warning("stripe unreachable while expiring order %s; the next sweep tries again", order_id)
    return expired


def order_expire_unpaid(*, order_id: int, now: dt.datetime, gateway: StripeGateway) -> bool:
    order = Order.objects.get(pk=order_id)
    if not _is_due(order, now):
        return False
    payment = order.payments.exclude(intent_id=None).order_by("-pk").first()
    if payment is not None and payment.status not in ("canceled", "succeeded"):
        try:
            intent = gateway.cancel_payment_intent(
                payment.intent_id or "", idempotency_key=f"payops:{order.number}:expire"
            )
        except GatewayUnavailable:
            raise
        except GatewayError:
            # Usually the intent can no longer be cancelled because it just succeeded.
            intent = gateway.retrieve_payment_intent(payment.intent_id or "")
        if intent.status == "succeeded":
            payment_apply_intent(payment_id=payment.pk, intent=intent, cause=_CAUSE)
            return False
        return _expire_recording_intent(order_id=order_id, payment_id=payment.pk, intent=intent, now=now)
    return _expire_recording_intent(order_id=order_id, payment_id=None, intent=None, now=now)


@transaction.atomic
def _expire_recording_intent(
    *, order_id: int, payment_id: int | None, intent: PaymentIntentData | None, now: dt.datetime
) -> bool:
    order = lock_order(order_id)
    if not _is_due(order, now):
        return False
    if payment_id is not None and intent is not None:
        payment_apply_intent(payment_id=payment_id, intent=intent, cause=_CAUSE, move_order=False)
    order_expire(order_id=order_id, cause=_CAUSE)
    return True


def _is_due(order: Order, now: dt.datetime) -> bool:
    return (
        order.status in UNPAID_STATUSES
        and order.payment_expires_at is not None
        and order.payment_expires_at < now - EXPIRY_GRACE
    )
