"""Stripe-shaped errors raised by the simulator's services and rendered by its API views."""

from __future__ import annotations

from typing import Any


class StripeApiError(Exception):
    """An error the Stripe API would answer with: ``{"error": {...}}`` and an HTTP status.

    ``keep_changes`` marks errors raised after the request did real work that Stripe keeps,
    such as a declined card: the PaymentIntent stays updated and the response is stored for
    idempotent replay. Every other error rolls the request back.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: dict[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.payment_intent = payment_intent
        self.keep_changes = keep_changes

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.payment_intent is not None:
            error["payment_intent"] = self.payment_intent
        return {"error": error}


def invalid_param(message: str, *, param: str, code: str = "parameter_invalid") -> StripeApiError:
    return StripeApiError(message, param=param, code=code)


def missing_param(param: str) -> StripeApiError:
    return StripeApiError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def no_such(kind: str, stripe_id: str, *, param: str | None = None) -> StripeApiError:
    """Stripe's ``resource_missing``: 404 for an id in the path, 400 for one given as a parameter."""
    return StripeApiError(
        f"No such {kind}: '{stripe_id}'",
        status=400 if param else 404,
        code="resource_missing",
        param=param or "id",
    )


def unexpected_state(message: str, *, payment_intent: dict[str, Any] | None = None) -> StripeApiError:
    return StripeApiError(message, code="payment_intent_unexpected_state", payment_intent=payment_intent)
