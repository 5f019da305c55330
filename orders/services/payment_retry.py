"""Pay again, another way, for the same order (a declined card, a voucher the shopper cannot use).

The order keeps its number, lines and prices; it gets a new payment and a new PaymentIntent.
The previous intent is cancelled at Stripe first, so the shopper cannot end up paying twice;
events that still arrive for it no longer move the order (``payment_is_superseded``), while
money that arrives on it anyway is still recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.errors import PaymentProviderUnavailable, PaymentRetryNotAllowed
from orders.models import Order, Payment
from orders.models.payments import PAYMENT_CREATING, PaymentMethod
from orders.services.checkout import (
    CheckoutResult,
    ensure_method_available,
    payment_intent_idempotency_key,
    set_up_order_payment,
)
from orders.services.order_events import Cause, record_order_event
from orders.services.payment_cancellation import order_cancel_open_payment_intents
from orders.services.payments import payment_expiry_for
from orders.services.stock import rereserve_order_stock
from orders.services.transitions import lock_order, move_order
from orders.state_machine import PAID_STATUSES, OrderStatus
from payops.stripe.gateway import GatewayUnavailable, StripeGateway, get_gateway

RETRYABLE_STATUSES = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_FAILED})


@dataclass(frozen=True)
class RetryRefusal:
    reason: str  # stable: not_awaiting_payment, too_late, partly_paid, in_progress
    message: str


def payment_retry_refusal(order: Order, *, now: dt.datetime | None = None) -> RetryRefusal | None:
    """Why this order cannot be paid again another way now, or None when it can.

    The status page, the API and the service ask here, so they offer and refuse the same things.
    """
    now = now or timezone.now()
    if order.status not in RETRYABLE_STATUSES:
        return RetryRefusal("not_awaiting_payment", f"an order in status {order.status!r} is not awaiting payment")
    if now - order.created_at > dt.timedelta(hours=settings.PAYOPS_PAYMENT_RETRY_HOURS):
        return RetryRefusal("too_late", "the time to pay again for this order has passed; please order again")
    payments = [p for p in order.payments.all() if p.method != PaymentMethod.OUTSIDE]
    if any(p.amount_received > 0 for p in payments):
        # Part of a bank transfer arrived: switching methods would strand that money.
        return RetryRefusal("partly_paid", "part of the payment has arrived; pay the rest the same way")
    if any(p.status == PAYMENT_CREATING for p in payments):
        return RetryRefusal("in_progress", "a payment for this order is being set up right now")
    return None


def order_retry_payment(
    *, order_id: int, method: str, payment_method_id: str = "", gateway: StripeGateway | None = None
) -> CheckoutResult:
    gateway = gateway or get_gateway()
    order = Order.objects.get(pk=order_id)
    _ensure_retry_allowed(order)
    ensure_method_available(method=method, total=order.total)
    try:
        # Before the new intent exists: a voucher or 3-D Secure step left open could still be paid.
        order_cancel_open_payment_intents(order_id=order.pk)
    except GatewayUnavailable as exc:
        raise PaymentProviderUnavailable(
            "the payment provider could not be reached; nothing was changed, please try again",
            order=order,
            reason_code="payment_provider_unavailable",
        ) from exc
    order, payment = _start_new_payment(order_id=order.pk, method=method)
    result = set_up_order_payment(
        order,
        payment,
        method=method,
        payment_method_id=payment_method_id,
        gateway=gateway,
        idempotency_key=payment_intent_idempotency_key(order, payment),
    )
    _record_retry(result)
    return result


@transaction.atomic
def _record_retry(result: CheckoutResult) -> None:
    """The order's history (and its mails: a new voucher or new transfer instructions) learn of
    the new payment once Stripe has set it up."""
    order = lock_order(result.order.pk)
    if order.status in PAID_STATUSES:
        return  # paid at once (a card): "paid" says all there is to say
    record_order_event(
        order=order,
        type="payment.retried",
        cause=Cause.customer("payment-retry"),
        data={"method": result.payment.method, "payment_intent": result.payment.intent_id or ""},
    )
    result.order.last_event_sequence = order.last_event_sequence


@transaction.atomic
def _start_new_payment(*, order_id: int, method: str) -> tuple[Order, Payment]:
    order = lock_order(order_id)
    # Checked again under the lock: the old intent may have turned out paid while we cancelled
    # it, or a second click may have started a payment meanwhile.
    _ensure_retry_allowed(order)
    if order.status == OrderStatus.PAYMENT_FAILED and not rereserve_order_stock(order):
        raise PaymentRetryNotAllowed(
            "an item of this order is no longer in stock; please order again", reason="out_of_stock"
        )
    order.payment_expires_at = payment_expiry_for(method=method, intent=None, now=timezone.now())
    order.save(update_fields=["payment_expires_at", "updated_at"])
    if order.status == OrderStatus.PAYMENT_FAILED:
        move_order(
            order,
            OrderStatus.AWAITING_PAYMENT,
            cause=Cause.customer("payment-retry"),
            data={"method": method},
        )
    payment = Payment.objects.create(
        order=order, method=method, amount=order.total_amount, currency=order.currency, status=PAYMENT_CREATING
    )
    return order, payment


def _ensure_retry_allowed(order: Order) -> None:
    refusal = payment_retry_refusal(order)
    if refusal is not None:
        raise PaymentRetryNotAllowed(refusal.message, reason=refusal.reason)
