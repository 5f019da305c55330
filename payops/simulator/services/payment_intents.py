"""PaymentIntents: create, confirm, cancel, and the test cards' 3-D Secure step.

Confirmation branches by payment method the way Stripe test mode does: a test card succeeds,
is declined (HTTP 402, the intent kept with ``last_payment_error``) or asks for authentication;
konbini issues a voucher (``payops.simulator.services.konbini``); a bank transfer shows where to
wire the money (``payops.simulator.services.bank_transfers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from payops.money import CURRENCY_EXPONENTS
from payops.simulator.errors import StripeApiError, invalid_param, missing_param, no_such, unexpected_state
from payops.simulator.models import IntentStatus, SimCustomer, SimPaymentIntent
from payops.simulator.services import bank_transfers, konbini
from payops.simulator.services.transitions import (
    emit_intent_event,
    lock_intent,
    mark_payment_failed,
    mark_requires_action,
    mark_succeeded,
)
from payops.simulator.stripe_objects import new_stripe_id, payment_intent_json, random_token
from payops.simulator.test_cards import card_behaviour

SUPPORTED_METHOD_TYPES = ("card", "konbini", "customer_balance")
# Stripe's minimum charge per currency (minor units); others default to 50.
MINIMUM_AMOUNTS = {"jpy": 50, "usd": 50, "eur": 50, "gbp": 30, "krw": 100, "vnd": 2000}
CANCELABLE = (
    IntentStatus.REQUIRES_PAYMENT_METHOD,
    IntentStatus.REQUIRES_CONFIRMATION,
    IntentStatus.REQUIRES_ACTION,
    IntentStatus.PROCESSING,
)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


@dataclass(frozen=True)
class PaymentMethodData:
    """``payment_method_data``: a PaymentMethod created inline (konbini, customer_balance)."""

    type: str
    billing_details: dict[str, Any] = field(default_factory=dict)


def create_payment_intent(
    *,
    amount: int,
    currency: str,
    payment_method_types: list[str],
    metadata: dict[str, str],
    receipt_email: str = "",
    description: str = "",
    customer_id: str = "",
    payment_method: str = "",
    payment_method_data: PaymentMethodData | None = None,
    payment_method_options: dict[str, Any] | None = None,
    confirm: bool = False,
    return_url: str = "",
) -> SimPaymentIntent:
    """Create a PaymentIntent, confirming it at once when ``confirm`` is set.

    A declined card raises a 402 card error *after* the transaction, so the intent keeps its
    ``last_payment_error`` as it does on Stripe.
    """
    currency = _validate_currency(currency)
    _validate_amount(amount, currency=currency)
    method_types = _validate_method_types(payment_method_types or ["card"])
    with transaction.atomic():
        intent = SimPaymentIntent(
            stripe_id=new_stripe_id("pi"),
            amount=amount,
            currency=currency,
            status=IntentStatus.REQUIRES_PAYMENT_METHOD,
            customer=_customer(customer_id),
            payment_method_types=method_types,
            payment_method_options=payment_method_options or {},
            metadata=metadata,
            receipt_email=receipt_email,
            description=description,
            return_url=return_url,
        )
        intent.client_secret = f"{intent.stripe_id}_secret_{random_token()}"
        _attach_payment_method(intent, payment_method=payment_method, payment_method_data=payment_method_data)
        intent.save()
        emit_intent_event(intent, "created")
        declined = _confirm(intent) if confirm else False
    if declined:
        raise card_declined(intent)
    return intent


def confirm_payment_intent(
    *,
    intent_id: str,
    payment_method: str = "",
    payment_method_data: PaymentMethodData | None = None,
    payment_method_options: dict[str, Any] | None = None,
    return_url: str = "",
) -> SimPaymentIntent:
    with transaction.atomic():
        intent = lock_intent(intent_id)
        if intent.status not in (IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.REQUIRES_CONFIRMATION):
            raise unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
                payment_intent=payment_intent_json(intent),
            )
        if payment_method_options:
            intent.payment_method_options = {**intent.payment_method_options, **payment_method_options}
        if return_url:
            intent.return_url = return_url
        _attach_payment_method(intent, payment_method=payment_method, payment_method_data=payment_method_data)
        declined = _confirm(intent)
    if declined:
        raise card_declined(intent)
    return intent


@transaction.atomic
def cancel_payment_intent(*, intent_id: str, cancellation_reason: str = "") -> SimPaymentIntent:
    intent = lock_intent(intent_id)
    if intent.status not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only a PaymentIntent "
            f"with one of the following statuses may be canceled: {', '.join(CANCELABLE)}.",
            payment_intent=payment_intent_json(intent),
        )
    bank_transfers.return_funds_to_cash_balance(intent)
    intent.status = IntentStatus.CANCELED
    intent.canceled_at = timezone.now()
    intent.cancellation_reason = cancellation_reason
    intent.save()
    emit_intent_event(intent, "canceled")
    return intent


@transaction.atomic
def complete_authentication(*, intent_id: str) -> SimPaymentIntent:
    """The cardholder passed 3-D Secure on the simulator's bank page."""
    intent = _lock_pending_authentication(intent_id)
    mark_succeeded(intent)
    return intent


@transaction.atomic
def fail_authentication(*, intent_id: str) -> SimPaymentIntent:
    """The cardholder failed (or abandoned) 3-D Secure."""
    intent = _lock_pending_authentication(intent_id)
    mark_payment_failed(
        intent,
        error={
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": (
                "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
            ),
        },
    )
    return intent


def return_url_after_authentication(intent: SimPaymentIntent) -> str:
    """Where the bank page sends the shopper back: ``return_url`` plus the query Stripe appends."""
    if not intent.return_url:
        return ""
    parts = urlsplit(intent.return_url)
    query = urlencode(
        {
            "payment_intent": intent.stripe_id,
            "payment_intent_client_secret": intent.client_secret,
            "redirect_status": "succeeded" if intent.status == IntentStatus.SUCCEEDED else "failed",
        }
    )
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def card_declined(intent: SimPaymentIntent) -> StripeApiError:
    error = intent.last_payment_error or {}
    return StripeApiError(
        error.get("message", "Your card was declined."),
        status=402,
        type="card_error",
        code=error.get("code", "card_declined"),
        decline_code=error.get("decline_code"),
        payment_intent=payment_intent_json(intent),
        keep_changes=True,
    )


def _validate_currency(currency: str) -> str:
    code = currency.lower()
    if code.upper() not in CURRENCY_EXPONENTS:
        raise invalid_param(f"Invalid currency: {currency}.", param="currency")
    return code


def _validate_amount(amount: int, *, currency: str) -> None:
    minimum = MINIMUM_AMOUNTS.get(currency, 50)
    if amount < minimum:
        raise invalid_param(
            f"Amount must be at least {minimum} {currency} (minor units).", param="amount", code="amount_too_small"
        )


def _validate_method_types(method_types: list[str]) -> list[str]:
    for index, method_type in enumerate(method_types):
        if method_type not in SUPPORTED_METHOD_TYPES:
            raise invalid_param(
                f"The payment method type {method_type!r} is invalid or not supported by the payment simulator "
                f"(supported: {', '.join(SUPPORTED_METHOD_TYPES)}).",
                param=f"payment_method_types[{index}]",
            )
    return list(dict.fromkeys(method_types))


def _customer(customer_id: str) -> SimCustomer | None:
    if not customer_id:
        return None
    try:
        return SimCustomer.objects.get(stripe_id=customer_id)
    except SimCustomer.DoesNotExist:
        raise no_such("customer", customer_id, param="customer") from None


def _attach_payment_method(
    intent: SimPaymentIntent, *, payment_method: str, payment_method_data: PaymentMethodData | None
) -> None:
    if payment_method and payment_method_data:
        raise invalid_param(
            "You cannot provide both payment_method and payment_method_data.", param="payment_method_data"
        )
    if payment_method:
        if card_behaviour(payment_method) is None:
            raise no_such("PaymentMethod", payment_method, param="payment_method")
        method_type = "card"
        intent.test_card = payment_method
    elif payment_method_data:
        method_type = payment_method_data.type
        if method_type == "card":
            raise invalid_param(
                "Card details cannot be sent to the payment simulator; use a test PaymentMethod such as pm_card_visa.",
                param="payment_method_data[type]",
            )
        if method_type == "konbini":
            for required in ("name", "email"):
                if not payment_method_data.billing_details.get(required):
                    raise missing_param(f"payment_method_data[billing_details][{required}]")
        intent.billing_details = payment_method_data.billing_details
    else:
        return
    if method_type not in intent.payment_method_types:
        raise StripeApiError(
            f"The PaymentMethod provided ({method_type}) is not allowed for this PaymentIntent. Please attach a "
            f"PaymentMethod of one of the following types: {', '.join(intent.payment_method_types)}.",
            param="payment_method_data[type]" if payment_method_data else "payment_method",
            code="payment_intent_incompatible_payment_method",
        )
    # Stripe turns a magic test id (pm_card_visa) or inline data into a PaymentMethod of its own.
    intent.payment_method = new_stripe_id("pm")
    intent.payment_method_type = method_type
    intent.status = IntentStatus.REQUIRES_CONFIRMATION


def _confirm(intent: SimPaymentIntent) -> bool:
    """Run the confirmation for the attached method; True when a card was declined."""
    if not intent.payment_method:
        raise StripeApiError(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Specify payment_method or payment_method_data.",
            param="payment_method",
            code="payment_intent_unexpected_state",
        )
    if intent.payment_method_type == "card":
        return _confirm_card(intent)
    if intent.payment_method_type == "konbini":
        konbini.validate_konbini_amount(amount=intent.amount, currency=intent.currency)
        konbini.issue_voucher(intent)
    else:
        bank_transfers.validate_bank_transfer(
            currency=intent.currency, customer=intent.customer, options=intent.payment_method_options
        )
        bank_transfers.request_bank_transfer(intent)
    return False


def _confirm_card(intent: SimPaymentIntent) -> bool:
    behaviour = card_behaviour(intent.test_card)
    assert behaviour is not None, "only known test cards are attached"
    if behaviour.outcome == "succeeded":
        mark_succeeded(intent)
        return False
    if behaviour.outcome == "authentication_required":
        mark_requires_action(intent)
        return False
    mark_payment_failed(
        intent,
        error={
            "type": "card_error",
            "code": behaviour.error_code,
            "decline_code": behaviour.decline_code,
            "message": behaviour.message,
        },
    )
    return True


def _lock_pending_authentication(intent_id: str) -> SimPaymentIntent:
    intent = lock_intent(intent_id)
    if intent.payment_method_type != "card" or intent.status != IntentStatus.REQUIRES_ACTION:
        raise unexpected_state(f"PaymentIntent {intent_id} is not waiting for 3-D Secure (status {intent.status}).")
    return intent
