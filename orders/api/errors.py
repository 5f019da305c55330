"""Domain errors as problems: the one table from the order domain's exceptions to HTTP."""

from __future__ import annotations

from django.utils import translation
from rest_framework import status

from orders import errors
from orders.payment_problems import payment_problem_kind, shopper_failure_message
from orders.services.outside_payments import OutsidePaymentRefused
from orders.services.staff_actions import StaffLevelMissing
from payops.api.problems import Problem
from payops.stripe.gateway import GatewayUnavailable

_STATUS_FOR_ERROR: dict[type[errors.OrderError], int] = {
    errors.InvalidCart: status.HTTP_400_BAD_REQUEST,
    errors.UnknownProduct: status.HTTP_400_BAD_REQUEST,
    errors.PaymentMethodNotAvailable: status.HTTP_400_BAD_REQUEST,
    errors.InsufficientStock: status.HTTP_409_CONFLICT,
    errors.PaymentDeclinedAtCheckout: status.HTTP_402_PAYMENT_REQUIRED,
    errors.PaymentProviderUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    errors.ActionNotAllowed: status.HTTP_409_CONFLICT,
    errors.PaymentRetryNotAllowed: status.HTTP_409_CONFLICT,
}

RETRY_AFTER_SECONDS = "5"
# The reason orders/services/checkout.py gives when Stripe refused to set the payment up.
SETUP_REFUSED = "payment_setup_failed"


def problem_for(exc: Exception) -> Problem | None:
    """The problem for a domain error, or None when ``exc`` is not one."""
    if isinstance(exc, errors.OrderError):
        return _order_problem(exc)
    if isinstance(exc, OutsidePaymentRefused):
        return Problem(
            status_code=status.HTTP_409_CONFLICT,
            slug="outside-payment-refused",
            title="Outside payment refused",
            detail=str(exc),
        )
    if isinstance(exc, GatewayUnavailable):
        return Problem(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            slug="payment-provider-unavailable",
            title="Payment provider unavailable",
            detail="Stripe could not be reached. The request is kept and retried; "
            "retrying with the same Idempotency-Key is safe.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return None


def _order_problem(exc: errors.OrderError) -> Problem:
    if isinstance(exc, errors.PaymentProviderUnavailable) and exc.reason_code == SETUP_REFUSED:
        # Stripe refused the setup itself (an unknown payment_method_id, a method the account
        # lacks): retrying cannot help, so this is no 503. Like a decline, the order exists as
        # payment_failed and nothing was charged.
        return Problem(
            status_code=status.HTTP_402_PAYMENT_REQUIRED,
            slug="payment-setup-failed",
            title="Payment setup failed",
            detail=exc.message,
            order={"number": exc.order.number, "status": exc.order.status, "status_url": exc.order.status_url},
            reason_code=exc.reason_code,
        )
    if isinstance(exc, StaffLevelMissing):
        return Problem(status_code=403, slug="permission-denied", title="Permission denied", detail=exc.message)
    status_code = next(
        (code for cls, code in _STATUS_FOR_ERROR.items() if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST
    )
    extra: dict[str, object] = {}
    if exc.field:
        extra["errors"] = {exc.field: [exc.message]}
    if isinstance(exc, errors.InsufficientStock):
        extra["shortages"] = exc.shortages
    if isinstance(exc, errors.PaymentRetryNotAllowed):
        extra["reason"] = exc.reason
    if isinstance(exc, errors.PaymentNotTaken):
        extra["order"] = {"number": exc.order.number, "status": exc.order.status, "status_url": exc.order.status_url}
        extra["reason_code"] = exc.reason_code
    detail = exc.message
    if isinstance(exc, errors.PaymentDeclinedAtCheckout):
        # Stripe's message is written for developers; a frontend shows this detail to the shopper.
        with translation.override(exc.order.locale):
            detail = shopper_failure_message(exc.reason_code)
        extra["kind"] = payment_problem_kind(exc.reason_code)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status_code == status.HTTP_503_SERVICE_UNAVAILABLE else None
    return Problem(
        status_code=status_code,
        slug=exc.code.replace("_", "-"),
        title=exc.code.replace("_", " ").capitalize(),
        detail=detail,
        headers=headers,
        **extra,
    )
