"""Stripe's test cards and the test PaymentMethods that stand for them.

Stripe test mode accepts magic PaymentMethod ids such as ``pm_card_visa`` in place of a real
card, and documents a card number for each. The simulator's shop page lets a shopper type the
number (as on a real card form) and ``payment_method_for_card`` turns it into the magic id that
payops passes to ``StripeGateway.create_payment_intent``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardBehaviour:
    """What happens when a PaymentIntent is confirmed with this test PaymentMethod."""

    outcome: str  # "succeeded" | "declined" | "authentication_required"
    brand: str
    last4: str
    decline_code: str = ""
    error_code: str = ""
    message: str = ""


_DECLINED = "Your card was declined."

# Keyed by the test PaymentMethod id; aliases Stripe documents point at the same behaviour.
TEST_PAYMENT_METHODS: dict[str, CardBehaviour] = {
    "pm_card_visa": CardBehaviour("succeeded", "visa", "4242"),
    "pm_card_mastercard": CardBehaviour("succeeded", "mastercard", "4444"),
    "pm_card_jcb": CardBehaviour("succeeded", "jcb", "0505"),
    "pm_card_chargeDeclined": CardBehaviour(
        "declined", "visa", "0002", decline_code="generic_decline", error_code="card_declined", message=_DECLINED
    ),
    "pm_card_visa_chargeDeclined": CardBehaviour(
        "declined", "visa", "0002", decline_code="generic_decline", error_code="card_declined", message=_DECLINED
    ),
    "pm_card_chargeDeclinedInsufficientFunds": CardBehaviour(
        "declined",
        "visa",
        "9995",
        decline_code="insufficient_funds",
        error_code="card_declined",
        message="Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": CardBehaviour(
        "declined",
        "visa",
        "0069",
        decline_code="expired_card",
        error_code="expired_card",
        message="Your card has expired.",
    ),
    "pm_card_authenticationRequired": CardBehaviour("authentication_required", "visa", "3155"),
    "pm_card_threeDSecure2Required": CardBehaviour("authentication_required", "visa", "3220"),
}

TEST_CARD_NUMBERS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "3566002020360505": "pm_card_jcb",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000002500003155": "pm_card_authenticationRequired",
    "4000000000003220": "pm_card_threeDSecure2Required",
}


def payment_method_for_card(number: str) -> str:
    """The test PaymentMethod id for a Stripe test card number (spaces and dashes allowed)."""
    digits = number.replace(" ", "").replace("-", "")
    try:
        return TEST_CARD_NUMBERS[digits]
    except KeyError:
        known = ", ".join(TEST_CARD_NUMBERS)
        raise ValueError(
            f"{number!r} is not one of Stripe's test cards the payment simulator knows ({known}); "
            "real card numbers are never accepted in test mode"
        ) from None


def card_behaviour(payment_method: str) -> CardBehaviour | None:
    return TEST_PAYMENT_METHODS.get(payment_method)
