"""The PaymentIntent state changes every payment method shares, each with its Stripe event.

Callers hold the intent row locked (``lock_intent``) inside a transaction.
"""

from __future__ import annotations

from typing import Any

from payops.simulator.errors import no_such
from payops.simulator.models import IntentStatus, SimCharge, SimPaymentIntent
from payops.simulator.services.events import record_event
from payops.simulator.stripe_objects import new_stripe_id, payment_intent_json, payment_method_json


def lock_intent(stripe_id: str) -> SimPaymentIntent:
    try:
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the customer join.
        return (
            SimPaymentIntent.objects.select_related("customer").select_for_update(of=("self",)).get(stripe_id=stripe_id)
        )
    except SimPaymentIntent.DoesNotExist:
        raise no_such("payment_intent", stripe_id) from None


def get_intent(stripe_id: str) -> SimPaymentIntent:
    try:
        return SimPaymentIntent.objects.select_related("customer").get(stripe_id=stripe_id)
    except SimPaymentIntent.DoesNotExist:
        raise no_such("payment_intent", stripe_id) from None


def emit_intent_event(intent: SimPaymentIntent, event_type: str) -> None:
    record_event(type=f"payment_intent.{event_type}", data_object=payment_intent_json(intent))


def mark_requires_action(intent: SimPaymentIntent) -> None:
    intent.status = IntentStatus.REQUIRES_ACTION
    intent.last_payment_error = None
    intent.save()
    emit_intent_event(intent, "requires_action")


def mark_succeeded(intent: SimPaymentIntent) -> SimCharge:
    """The money is in: the whole amount received, a charge to refund against, ``payment_intent.succeeded``."""
    intent.status = IntentStatus.SUCCEEDED
    intent.amount_received = intent.amount
    intent.last_payment_error = None
    intent.save()
    charge = SimCharge.objects.create(
        stripe_id=new_stripe_id("ch"), payment_intent=intent, amount=intent.amount, currency=intent.currency
    )
    emit_intent_event(intent, "succeeded")
    return charge


def mark_payment_failed(intent: SimPaymentIntent, *, error: dict[str, Any]) -> None:
    """The attempt failed: Stripe detaches the PaymentMethod and waits for a new one."""
    failed_method = intent.payment_method
    intent.last_payment_error = {
        **error,
        "doc_url": f"https://stripe.com/docs/error-codes/{error['code'].replace('_', '-')}",
        "payment_method": payment_method_json(intent, payment_method=failed_method) if failed_method else None,
    }
    intent.status = IntentStatus.REQUIRES_PAYMENT_METHOD
    intent.payment_method = ""
    intent.save()
    emit_intent_event(intent, "payment_failed")
