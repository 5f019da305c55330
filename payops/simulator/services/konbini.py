"""Konbini: a voucher paid in cash at a Japanese convenience store, or left to expire.

Stripe's rules the simulator keeps: JPY only, ¥120–¥300,000, the voucher expires at 23:59:59
JST ``expires_after_days`` calendar days after confirmation, and an expired voucher sends the
PaymentIntent back to ``requires_payment_method`` with ``payment_intent.payment_failed``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from payops.simulator.errors import StripeApiError, invalid_param, unexpected_state
from payops.simulator.models import IntentStatus, SimPaymentIntent
from payops.simulator.services.transitions import lock_intent, mark_payment_failed, mark_requires_action, mark_succeeded

KONBINI_MIN_JPY = 120
KONBINI_MAX_JPY = 300_000
KONBINI_DEFAULT_EXPIRES_AFTER_DAYS = 3
KONBINI_MAX_EXPIRES_AFTER_DAYS = 60
STORES = ("familymart", "lawson", "ministop", "seicomart")
JST = ZoneInfo("Asia/Tokyo")


def validate_konbini_amount(*, amount: int, currency: str) -> None:
    if currency != "jpy":
        raise StripeApiError(
            f"The currency provided ({currency}) is invalid. "
            "Payments with konbini support the following currencies: jpy.",
            param="currency",
            code="payment_intent_invalid_parameter",
        )
    if amount < KONBINI_MIN_JPY:
        raise invalid_param(
            f"Amount must be at least ¥{KONBINI_MIN_JPY} for konbini payments.", param="amount", code="amount_too_small"
        )
    if amount > KONBINI_MAX_JPY:
        raise invalid_param(
            f"Amount must be no more than ¥{KONBINI_MAX_JPY:,} for konbini payments.",
            param="amount",
            code="amount_too_large",
        )


def validate_expires_after_days(days: int | None) -> int:
    if days is None:
        return KONBINI_DEFAULT_EXPIRES_AFTER_DAYS
    if not 1 <= days <= KONBINI_MAX_EXPIRES_AFTER_DAYS:
        raise invalid_param(
            f"expires_after_days must be between 1 and {KONBINI_MAX_EXPIRES_AFTER_DAYS}.",
            param="payment_method_options[konbini][expires_after_days]",
        )
    return days


def voucher_expiry(*, confirmed_at: datetime, expires_after_days: int) -> datetime:
    """End of the day (JST) ``expires_after_days`` calendar days after confirmation."""
    day = confirmed_at.astimezone(JST).date() + timedelta(days=expires_after_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=JST)


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def issue_voucher(intent: SimPaymentIntent) -> None:
    """Confirming with konbini: the shopper gets a voucher (payment code per store chain)."""
    options = intent.payment_method_options.get("konbini", {})
    days = validate_expires_after_days(options.get("expires_after_days"))
    # The store asks for the payment code and, for some chains, a confirmation number; the
    # simulator issues one pair valid at every chain.
    payment_code, confirmation_number = _digits(12), _digits(11)
    intent.konbini_stores = {
        store: {"confirmation_number": confirmation_number, "payment_code": payment_code} for store in STORES
    }
    intent.konbini_expires_at = voucher_expiry(confirmed_at=timezone.now(), expires_after_days=days)
    mark_requires_action(intent)


def _lock_open_voucher(stripe_id: str) -> SimPaymentIntent:
    intent = lock_intent(stripe_id)
    if intent.payment_method_type != "konbini" or intent.status != IntentStatus.REQUIRES_ACTION:
        raise unexpected_state(
            f"PaymentIntent {stripe_id} has no open konbini voucher (status {intent.status}, "
            f"payment method {intent.payment_method_type or 'none'})."
        )
    return intent


@transaction.atomic
def konbini_pay_at_store(*, intent_id: str) -> SimPaymentIntent:
    """The shopper paid at the till: the payment succeeds (Stripe sends no ``processing`` for konbini)."""
    intent = _lock_open_voucher(intent_id)
    mark_succeeded(intent)
    return intent


@transaction.atomic
def konbini_expire_voucher(*, intent_id: str) -> SimPaymentIntent:
    """The voucher's time ran out unpaid."""
    intent = _lock_open_voucher(intent_id)
    mark_payment_failed(
        intent,
        error={
            "type": "invalid_request_error",
            "code": "payment_intent_payment_attempt_expired",
            "message": (
                "The payment attempt for this PaymentIntent has expired. "
                "You can provide payment_method_data or a new PaymentMethod to try again."
            ),
        },
    )
    return intent
