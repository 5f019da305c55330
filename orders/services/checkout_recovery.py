"""Checkouts that stopped between their two steps, settled by a sweep (issue 13.2).

Checkout commits the order (holding stock) before it creates the PaymentIntent. A request that
dies in between (its database connection killed, its process gone) leaves the order
``pending_payment`` with a payment ``creating`` and no intent. A client retrying with its
Idempotency-Key continues that order; without a key nobody will, and the shopper never saw
an answer. So once ``PAYOPS_CHECKOUT_ABANDON_SECONDS`` have passed — longer than a client's
retries and the idempotency lock — the sweep settles it:

* konbini and bank transfer: the same PaymentIntent request is sent again with the same
  Stripe idempotency key, so Stripe answers with the intent of the first attempt if it made one
  (it may have mailed a voucher). If money moved, the order is finished (applied as usual);
  otherwise the intent is cancelled and the order with it, giving its stock back.
* cards: a card confirmed at checkout reports its outcome by webhook within seconds, which
  links the intent to this payment (by the order id in its metadata). None came, so Stripe made
  no charge: the order is released as payment_failed. Nothing is sent to Stripe, which could
  otherwise confirm a card the shopper was never told about.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from orders.models import Order, Payment
from orders.models.payments import PAYMENT_CREATING, PaymentMethod
from orders.services.checkout import (
    MONEY_MOVED,
    checkout_fail,
    checkout_unfinished,
    create_payment_intent_for,
    payment_intent_idempotency_key,
)
from orders.services.order_events import Cause
from orders.services.payments import payment_apply_intent
from orders.state_machine import OrderStatus
from payops.idempotency.services import idempotency_binding_in_progress
from payops.stripe.gateway import StripeGateway, get_gateway

logger = logging.getLogger(__name__)

ABANDONED = "checkout_abandoned"
_CAUSE = "checkout-sweep"


def checkout_settle_abandoned(
    *, now: dt.datetime | None = None, gateway: StripeGateway | None = None, limit: int = 200
) -> int:
    """Settle every checkout that stopped after its order was written; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.PAYOPS_CHECKOUT_ABANDON_SECONDS)
    payment_ids = list(
        Payment.objects.filter(
            status=PAYMENT_CREATING,
            intent_id__isnull=True,
            created_at__lte=cutoff,
            order__status=OrderStatus.PENDING_PAYMENT,
        ).values_list("pk", flat=True)[:limit]
    )
    settled = 0
    for payment_id in payment_ids:
        try:
            checkout_settle(payment_id=payment_id, gateway=gateway or get_gateway())
            settled += 1
        except Exception:
            # Stripe unreachable, a row changed meanwhile: the next sweep tries again.
            logger.exception("could not settle the abandoned checkout of payment %s", payment_id)
    return settled


def checkout_settle(*, payment_id: int, gateway: StripeGateway) -> Order:
    payment = Payment.objects.select_related("order__customer").get(pk=payment_id)
    order = payment.order
    if not checkout_unfinished(order, payment):
        return order  # a retry or a webhook finished it meanwhile
    if order.checkout_key and idempotency_binding_in_progress(order.checkout_key):
        return order  # its client's retry is running right now and continues it
    cause = Cause.system(_CAUSE)
    if payment.method not in (PaymentMethod.KONBINI, PaymentMethod.BANK_TRANSFER):
        return checkout_fail(
            order, code=ABANDONED, message="the checkout stopped before its payment was set up", cause=cause
        )
    intent = create_payment_intent_for(
        order,
        method=payment.method,
        payment_method_id="",
        gateway=gateway,
        idempotency_key=payment_intent_idempotency_key(order, payment),
    )
    if intent.status not in MONEY_MOVED and intent.status != "canceled":
        intent = gateway.cancel_payment_intent(intent.id, idempotency_key=f"payops:{order.number}:abandoned")
    logger.info("abandoned checkout of %s settled: its PaymentIntent %s is %s", order.number, intent.id, intent.status)
    payment_apply_intent(payment_id=payment.pk, intent=intent, cause=cause)
    order.refresh_from_db()
    return order
