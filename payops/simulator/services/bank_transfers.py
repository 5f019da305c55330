"""Japanese bank transfer (``customer_balance`` / ``jp_bank_transfer``), funded in parts or at once.

As on Stripe, money a customer wires lands in the customer's cash balance and is applied to the
open PaymentIntent it belongs to: the one whose reference the transfer quotes, else the oldest
waiting one. A short transfer leaves the intent in ``requires_action`` with a smaller
``amount_remaining`` (``payment_intent.partially_funded``); the last one makes it ``succeeded``.
Money with nowhere to go stays in the cash balance and pays the customer's next intent.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.db import transaction
from django.utils import timezone

from payops.simulator.errors import StripeApiError, invalid_param, no_such
from payops.simulator.models import IntentStatus, SimCustomer, SimPaymentIntent
from payops.simulator.services.transitions import emit_intent_event, mark_requires_action, mark_succeeded
from payops.simulator.stripe_objects import new_stripe_id, unix

_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


def validate_bank_transfer(*, currency: str, customer: SimCustomer | None, options: dict[str, Any]) -> None:
    if currency != "jpy":
        raise StripeApiError(
            f"The currency provided ({currency}) is invalid. jp_bank_transfer supports the following currencies: jpy.",
            param="currency",
            code="payment_intent_invalid_parameter",
        )
    if customer is None:
        raise StripeApiError(
            "A customer is required to confirm a PaymentIntent with a customer_balance payment method.",
            param="customer",
            code="parameter_missing",
        )
    balance_options = options.get("customer_balance", {})
    if balance_options.get("funding_type") != "bank_transfer":
        raise invalid_param(
            "payment_method_options[customer_balance][funding_type] must be bank_transfer.",
            param="payment_method_options[customer_balance][funding_type]",
        )
    if balance_options.get("bank_transfer", {}).get("type") != "jp_bank_transfer":
        raise invalid_param(
            "The payment simulator supports only jp_bank_transfer bank transfers.",
            param="payment_method_options[customer_balance][bank_transfer][type]",
        )


def request_bank_transfer(intent: SimPaymentIntent) -> None:
    """Confirming with a bank transfer: show the account to wire to, or pay from the cash balance."""
    intent.bank_transfer_reference = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    mark_requires_action(intent)
    assert intent.customer is not None
    customer = SimCustomer.objects.select_for_update().get(pk=intent.customer.pk)
    _apply_cash_balance(customer, intent)


@transaction.atomic
def fund_cash_balance(*, customer_id: str, amount: int, currency: str, reference: str = "") -> dict[str, Any]:
    """Stripe's test helper: an incoming transfer to the customer's account. Returns the cash balance transaction."""
    try:
        customer = SimCustomer.objects.select_for_update().get(stripe_id=customer_id)
    except SimCustomer.DoesNotExist:
        raise no_such("customer", customer_id) from None
    if amount <= 0:
        raise invalid_param("Amount must be greater than 0.", param="amount")
    customer.cash_balance[currency] = customer.cash_balance.get(currency, 0) + amount
    customer.save(update_fields=["cash_balance"])

    target = _intent_awaiting_funds(customer, currency=currency, reference=reference)
    if target is not None:
        _apply_cash_balance(customer, target)
    return {
        "id": new_stripe_id("ccsbtxn"),
        "object": "customer_cash_balance_transaction",
        "created": unix(timezone.now()),
        "currency": currency,
        "customer": customer.stripe_id,
        "ending_balance": customer.cash_balance.get(currency, 0),
        "funded": {
            "bank_transfer": {
                "reference": reference or None,
                "type": "jp_bank_transfer",
                "jp_bank_transfer": {"sender_bank": None, "sender_branch": None, "sender_name": "TEST SENDER"},
            }
        },
        "livemode": False,
        "net_amount": amount,
        "type": "funded",
    }


def _intent_awaiting_funds(customer: SimCustomer, *, currency: str, reference: str) -> SimPaymentIntent | None:
    waiting = (
        SimPaymentIntent.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(
            customer=customer,
            currency=currency,
            payment_method_type="customer_balance",
            status=IntentStatus.REQUIRES_ACTION,
        )
        .order_by("pk")
    )
    if reference:
        by_reference = waiting.filter(bank_transfer_reference=reference).first()
        if by_reference is not None:
            return by_reference
    return waiting.first()


def _apply_cash_balance(customer: SimCustomer, intent: SimPaymentIntent) -> None:
    """Move what the cash balance holds (up to what the intent lacks) onto the intent."""
    available = customer.cash_balance.get(intent.currency, 0)
    applied = min(available, intent.amount_remaining)
    if applied <= 0:
        return
    customer.cash_balance[intent.currency] = available - applied
    customer.save(update_fields=["cash_balance"])
    intent.amount_funded += applied
    if intent.amount_remaining == 0:
        mark_succeeded(intent)
    else:
        intent.save()
        emit_intent_event(intent, "partially_funded")


def return_funds_to_cash_balance(intent: SimPaymentIntent) -> None:
    """A canceled bank-transfer intent gives what it had received back to the customer's balance."""
    if intent.payment_method_type != "customer_balance" or intent.amount_funded == 0 or intent.customer is None:
        return
    customer = SimCustomer.objects.select_for_update().get(pk=intent.customer.pk)
    customer.cash_balance[intent.currency] = customer.cash_balance.get(intent.currency, 0) + intent.amount_funded
    customer.save(update_fields=["cash_balance"])
    intent.amount_funded = 0
