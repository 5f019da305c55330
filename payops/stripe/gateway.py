"""The one module that talks to Stripe.

Everything payops asks of Stripe goes through ``StripeGateway``, built on the official stripe
library. The same class serves production (api.stripe.com) and the embedded demo, where
``STRIPE_API_BASE`` points at payops's own Stripe-compatible simulator (ADR 0003).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from payops.aws.secrets import stripe_secret_key
from payops.money import Money

logger = logging.getLogger(__name__)

KONBINI_MIN_JPY = 120
KONBINI_MAX_JPY = 300_000


class GatewayError(Exception):
    """Stripe refused the request; retrying the same request will not help."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or answered with a server error: retrying later may help."""


class PaymentDeclined(GatewayError):
    """The payment method was declined (card_error); the shopper may try another one."""

    def __init__(self, message: str, *, code: str, decline_code: str, intent: PaymentIntentData | None) -> None:
        super().__init__(message, code=code)
        self.decline_code = decline_code
        self.intent = intent


@dataclass(frozen=True)
class PaymentIntentData:
    """The part of a Stripe PaymentIntent payops keeps."""

    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str
    next_action: dict[str, Any] | None
    payment_method_type: str
    failure_code: str
    failure_message: str
    metadata: dict[str, str]

    @property
    def amount_remaining(self) -> int | None:
        """What a bank transfer still lacks, from Stripe's transfer instructions."""
        if not self.next_action:
            return None
        instructions = self.next_action.get("display_bank_transfer_instructions") or {}
        remaining = instructions.get("amount_remaining")
        return int(remaining) if remaining is not None else None

    @classmethod
    def from_stripe(cls, obj: Any) -> PaymentIntentData:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        error = data.get("last_payment_error") or {}
        method_types = data.get("payment_method_types") or [""]
        return cls(
            id=data["id"],
            status=data["status"],
            amount=int(data["amount"]),
            amount_received=int(data.get("amount_received") or 0),
            currency=str(data["currency"]).upper(),
            client_secret=data.get("client_secret") or "",
            next_action=data.get("next_action"),
            payment_method_type=method_types[0],
            failure_code=error.get("decline_code") or error.get("code") or "",
            failure_message=error.get("message") or "",
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class RefundData:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent: str
    failure_reason: str

    @classmethod
    def from_stripe(cls, obj: Any) -> RefundData:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        return cls(
            id=data["id"],
            status=data["status"],
            amount=int(data["amount"]),
            currency=str(data["currency"]).upper(),
            payment_intent=data.get("payment_intent") or "",
            failure_reason=data.get("failure_reason") or "",
        )


P = ParamSpec("P")
R = TypeVar("R")


def _translate_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map the stripe library's exceptions onto payops's three gateway errors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except stripe.CardError as exc:
            error = exc.error
            intent = getattr(error, "payment_intent", None) if error else None
            raise PaymentDeclined(
                exc.user_message or str(exc),
                code=exc.code or "card_declined",
                decline_code=(getattr(error, "decline_code", None) or exc.code or "") if error else "",
                intent=PaymentIntentData.from_stripe(intent) if intent else None,
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            logger.warning("stripe unreachable: %s", type(exc).__name__)
            raise GatewayUnavailable("the payment provider could not be reached") from exc
        except stripe.StripeError as exc:
            if exc.http_status is not None and exc.http_status >= 500:
                raise GatewayUnavailable("the payment provider answered with a server error") from exc
            raise GatewayError(exc.user_message or str(exc), code=exc.code or "") from exc

    return wrapper


class StripeGateway:
    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        timeout: float,
        max_network_retries: int,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.api_base = api_base
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=http_client or stripe.RequestsClient(timeout=timeout),
        )

    @_translate_errors
    def create_customer(self, *, email: str, idempotency_key: str) -> str:
        customer = self.client.v1.customers.create(
            params={"email": email}, options={"idempotency_key": idempotency_key}
        )
        return str(customer.id)

    @_translate_errors
    def create_payment_intent(
        self,
        *,
        amount: Money,
        method: str,
        email: str,
        idempotency_key: str,
        metadata: dict[str, str],
        customer_id: str = "",
        payment_method_id: str = "",
        return_url: str = "",
        expires_after_days: int = 3,
    ) -> PaymentIntentData:
        """Create (and for konbini, bank transfer and a given card, confirm) a PaymentIntent.

        The idempotency key comes from the order, so the library's own retries and any retry
        of ours return the PaymentIntent created the first time instead of a second charge.
        """
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "metadata": metadata,
            "receipt_email": email,
        }
        if method == "card":
            params["payment_method_types"] = ["card"]
            if payment_method_id:
                params.update(payment_method=payment_method_id, confirm=True, return_url=return_url)
        elif method == "konbini":
            params.update(
                payment_method_types=["konbini"],
                payment_method_data={
                    "type": "konbini",
                    "billing_details": {"email": email, "name": email.split("@")[0]},
                },
                payment_method_options={"konbini": {"expires_after_days": expires_after_days}},
                confirm=True,
            )
        elif method == "bank_transfer":
            params.update(
                customer=customer_id,
                payment_method_types=["customer_balance"],
                payment_method_data={"type": "customer_balance"},
                payment_method_options={
                    "customer_balance": {"funding_type": "bank_transfer", "bank_transfer": {"type": "jp_bank_transfer"}}
                },
                confirm=True,
            )
        else:
            raise ValueError(f"unknown payment method {method!r}")
        intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        return PaymentIntentData.from_stripe(intent)

    @_translate_errors
    def retrieve_payment_intent(self, intent_id: str) -> PaymentIntentData:
        return PaymentIntentData.from_stripe(self.client.v1.payment_intents.retrieve(intent_id))

    @_translate_errors
    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntentData:
        intent = self.client.v1.payment_intents.cancel(
            intent_id, params={"cancellation_reason": "abandoned"}, options={"idempotency_key": idempotency_key}
        )
        return PaymentIntentData.from_stripe(intent)

    @_translate_errors
    def create_refund(
        self, *, intent_id: str, amount: int, reason: str, idempotency_key: str, metadata: dict[str, str] | None = None
    ) -> RefundData:
        params: dict[str, Any] = {
            "payment_intent": intent_id,
            "amount": amount,
            "metadata": {**(metadata or {}), "reason": reason[:500]},
        }
        refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        return RefundData.from_stripe(refund)


@dataclass(frozen=True)
class WebhookEndpointData:
    id: str
    url: str
    enabled_events: tuple[str, ...]
    secret: str  # only returned by Stripe when the endpoint is created

    @classmethod
    def from_stripe(cls, obj: Any) -> WebhookEndpointData:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        return cls(
            id=data["id"],
            url=data["url"],
            enabled_events=tuple(data.get("enabled_events") or ()),
            secret=data.get("secret") or "",
        )


class StripeWebhookAdmin:
    """Managing payops's webhook endpoint at Stripe (an operator task, not a request path)."""

    def __init__(self, gateway: StripeGateway) -> None:
        self.client = gateway.client

    @_translate_errors
    def list_endpoints(self) -> list[WebhookEndpointData]:
        page = self.client.v1.webhook_endpoints.list(params={"limit": 100})
        return [WebhookEndpointData.from_stripe(item) for item in page.data]

    @_translate_errors
    def create_endpoint(self, *, url: str, events: list[str], api_version: str) -> WebhookEndpointData:
        params: dict[str, Any] = {"url": url, "enabled_events": events, "api_version": api_version}
        return WebhookEndpointData.from_stripe(self.client.v1.webhook_endpoints.create(params=params))  # type: ignore[arg-type]

    @_translate_errors
    def update_endpoint(self, endpoint_id: str, *, events: list[str]) -> WebhookEndpointData:
        params: dict[str, Any] = {"enabled_events": events}
        return WebhookEndpointData.from_stripe(self.client.v1.webhook_endpoints.update(endpoint_id, params=params))  # type: ignore[arg-type]


@functools.cache
def _gateway_for(api_key: str, api_base: str, timeout: float, retries: int) -> StripeGateway:
    return StripeGateway(api_key=api_key, api_base=api_base, timeout=timeout, max_network_retries=retries)


@sensitive_variables()
def stripe_livemode() -> bool:
    """Is this install on Stripe's live mode? Decided by the key in use, wherever it comes from."""
    return is_live_key(stripe_secret_key())


def is_live_key(api_key: str) -> bool:
    return api_key.startswith(("sk_live_", "rk_live_"))


def get_gateway() -> StripeGateway:
    """The configured gateway, read lazily so tests and the secrets store can change settings.

    The key comes from the secrets store (``payops.aws.secrets``: environment in development,
    Secrets Manager or SSM in production); a rotated key gets a new client on the next call.
    """
    api_key = stripe_secret_key()
    if settings.PAYMENT_SIMULATOR and api_key.startswith(("sk_live_", "rk_live_")):
        raise ImproperlyConfigured("PAYMENT_SIMULATOR cannot run with a live Stripe key from the secrets store")
    return _gateway_for(
        api_key,
        settings.STRIPE_API_BASE,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )
