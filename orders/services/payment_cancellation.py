"""Cancel the Stripe PaymentIntents an order no longer needs (cancelled, or paid another way)."""

from __future__ import annotations

from orders.models import Payment
from orders.services.order_events import Cause
from orders.services.payments import payment_apply_intent
from payops.stripe.gateway import GatewayError, GatewayUnavailable, get_gateway

_OPEN_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action", "processing")


def order_cancel_open_payment_intents(*, order_id: int) -> int:
    gateway = get_gateway()
    cancelled = 0
    for payment in Payment.objects.filter(order_id=order_id, status__in=_OPEN_STATUSES).exclude(intent_id=None):
        try:
            intent = gateway.cancel_payment_intent(
                payment.intent_id or "", idempotency_key=f"payops:payment:{payment.pk}:cancel"
            )
        except GatewayUnavailable:
            raise
        except GatewayError:
            intent = gateway.retrieve_payment_intent(payment.intent_id or "")
        # Record Stripe's view. A cancelled intent does not move the order (the caller decides
        # what it becomes); one that turned out to be paid does.
        payment_apply_intent(
            payment_id=payment.pk,
            intent=intent,
            cause=Cause.system("intent-cancel"),
            move_order=intent.status == "succeeded",
        )
        cancelled += intent.status == "canceled"
    return cancelled
