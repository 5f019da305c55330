"""Refunds against a succeeded PaymentIntent's charge, never more than was charged."""

from __future__ import annotations

from django.db import transaction

from payops.money import Money, MoneyError
from payops.simulator.errors import StripeApiError, invalid_param, no_such
from payops.simulator.models import IntentStatus, SimCharge, SimPaymentIntent, SimRefund
from payops.simulator.services.events import record_event
from payops.simulator.stripe_objects import charge_json, new_stripe_id, refund_json

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@transaction.atomic
def create_refund(
    *,
    payment_intent_id: str = "",
    charge_id: str = "",
    amount: int | None = None,
    reason: str = "",
    metadata: dict[str, str] | None = None,
) -> SimRefund:
    """Refund ``amount`` (default: all that is left) and send ``refund.created`` and ``charge.refunded``."""
    charge = _lock_charge(payment_intent_id=payment_intent_id, charge_id=charge_id)
    refundable = charge.amount - charge.amount_refunded
    if refundable == 0:
        raise StripeApiError(f"Charge {charge.stripe_id} has already been refunded.", code="charge_already_refunded")
    if amount is None:
        amount = refundable
    if amount <= 0:
        raise invalid_param("Refund amount must be greater than 0.", param="amount")
    if amount > refundable:
        raise StripeApiError(
            f"Refund amount ({_format(amount, charge.currency)}) is greater than unrefunded amount on charge "
            f"({_format(refundable, charge.currency)})",
            param="amount",
            code="amount_too_large",
        )
    refund = SimRefund.objects.create(
        stripe_id=new_stripe_id("re"),
        charge=charge,
        amount=amount,
        currency=charge.currency,
        reason=reason,
        metadata=metadata or {},
    )
    charge.amount_refunded += amount
    charge.save(update_fields=["amount_refunded"])
    # Test mode refunds succeed at once, so there is no later refund.updated to send.
    record_event(type="refund.created", data_object=refund_json(refund))
    record_event(type="charge.refunded", data_object=charge_json(charge))
    return refund


def get_refund(refund_id: str) -> SimRefund:
    try:
        return SimRefund.objects.select_related("charge__payment_intent").get(stripe_id=refund_id)
    except SimRefund.DoesNotExist:
        raise no_such("refund", refund_id) from None


def _lock_charge(*, payment_intent_id: str, charge_id: str) -> SimCharge:
    if charge_id:
        charge = (
            SimCharge.objects.select_for_update().select_related("payment_intent").filter(stripe_id=charge_id).first()
        )
        if charge is None:
            raise no_such("charge", charge_id, param="charge")
        return charge
    if not payment_intent_id:
        raise StripeApiError(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    intent = SimPaymentIntent.objects.filter(stripe_id=payment_intent_id).first()
    if intent is None:
        raise no_such("payment_intent", payment_intent_id, param="payment_intent")
    charge = SimCharge.objects.select_for_update().select_related("payment_intent").filter(payment_intent=intent).last()
    if charge is None or intent.status != IntentStatus.SUCCEEDED:
        raise StripeApiError(
            f"This PaymentIntent ({payment_intent_id}) does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    return charge


def _format(amount: int, currency: str) -> str:
    try:
        return Money(amount, currency).format()
    except MoneyError:
        return f"{amount} {currency}"
