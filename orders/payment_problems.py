"""What a shopper reads when a payment does not go through: a short, kind sentence that says what
to do next, in their language. Stripe's decline and error codes stay for staff (dashboard,
admin, the events); its ``message`` is written for developers and never reaches a shopper.

Codes from Stripe's "Decline codes" and "Error codes" references. Codes that hint at fraud
(``fraudulent``, ``lost_card``, ``stolen_card``, ``pickup_card``) read as a plain decline, as
Stripe advises, so nobody learns what the issuer suspected.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
WRONG_CVC = "wrong_cvc"
WRONG_NUMBER = "wrong_number"
AUTHENTICATION = "authentication"
NOT_SUPPORTED = "not_supported"
TRY_AGAIN = "try_again"
TIME_RAN_OUT = "time_ran_out"
OTHER = "other"

_KIND_OF_CODE = {
    **dict.fromkeys(
        (
            "card_declined",
            "generic_decline",
            "do_not_honor",
            "call_issuer",
            "no_action_taken",
            "not_permitted",
            "restricted_card",
            "security_violation",
            "service_not_allowed",
            "transaction_not_allowed",
            "revocation_of_all_authorizations",
            "revocation_of_authorization",
            "stop_payment_order",
            "fraudulent",
            "merchant_blacklist",
            "lost_card",
            "stolen_card",
            "pickup_card",
            "card_velocity_exceeded",
            "withdrawal_count_limit_exceeded",
            "approve_with_id",
            "new_account_information_available",
            "invalid_account",
            "invalid_amount",
            "testmode_decline",
        ),
        DECLINED,
    ),
    "insufficient_funds": INSUFFICIENT_FUNDS,
    **dict.fromkeys(("expired_card", "invalid_expiry_month", "invalid_expiry_year"), EXPIRED_CARD),
    **dict.fromkeys(("incorrect_cvc", "invalid_cvc"), WRONG_CVC),
    **dict.fromkeys(("incorrect_number", "invalid_number", "incorrect_zip", "incorrect_address"), WRONG_NUMBER),
    **dict.fromkeys(
        (
            "payment_intent_authentication_failure",
            "authentication_required",
            "authentication_not_handled",
            "offline_pin_required",
            "online_or_offline_pin_required",
            "incorrect_pin",
            "invalid_pin",
            "pin_try_exceeded",
        ),
        AUTHENTICATION,
    ),
    **dict.fromkeys(
        ("card_not_supported", "currency_not_supported", "payment_method_not_available", "amount_too_large"),
        NOT_SUPPORTED,
    ),
    **dict.fromkeys(
        (
            "processing_error",
            "try_again_later",
            "issuer_not_available",
            "reenter_transaction",
            "duplicate_transaction",
            "rate_limit",
            "api_error",
            "payment_setup_failed",
            "provider_unavailable",
        ),
        TRY_AGAIN,
    ),
    **dict.fromkeys(("payment_intent_payment_attempt_expired", "expired"), TIME_RAN_OUT),
}

_MESSAGES: dict[str, Promise] = {
    DECLINED: _("Your card was declined. Please try another card, or pay at a convenience store or by bank transfer."),
    INSUFFICIENT_FUNDS: _(
        "The card's available balance or credit limit was not enough. Please try another card, "
        "or pay at a convenience store or by bank transfer."
    ),
    EXPIRED_CARD: _("The card has expired. Please check the expiry date, or use another card."),
    WRONG_CVC: _("The security code (CVC) did not match. Please check it and try again."),
    WRONG_NUMBER: _("The card details did not match. Please check the card number and try again."),
    AUTHENTICATION: _(
        "The identity check with your card issuer (3-D Secure) was not completed. "
        "Please try again, or use another card."
    ),
    NOT_SUPPORTED: _(
        "This card cannot be used for this payment. Please use another card, "
        "or pay at a convenience store or by bank transfer."
    ),
    TRY_AGAIN: _("The payment could not be processed just now. Please wait a few minutes and try again."),
    TIME_RAN_OUT: _("The time to pay ran out before the payment arrived."),
    OTHER: _("The payment did not go through. Please try again, or choose another way to pay."),
}


def payment_problem_kind(code: str) -> str:
    """Stripe's decline or error code → one of the kinds above (``other`` for anything new)."""
    return _KIND_OF_CODE.get((code or "").strip().lower(), OTHER)


def shopper_failure_message(code: str) -> str:
    """The sentence a shopper reads for a failed payment, in the active language."""
    return str(_MESSAGES[payment_problem_kind(code)])
