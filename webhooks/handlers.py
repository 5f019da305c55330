"""Who processes what the inbox stored: handlers that apps register, looked up by the inbox.

The inbox receives, verifies, stores and acknowledges; what an event *means* belongs to the app
whose data it changes. That app registers its handlers (the orders app in
``OrdersConfig.ready()``), so the inbox imports no app that handles events, a new handler touches
no inbox code, and the event types a Stripe endpoint subscribes to (``stripe_webhook_sync``) are
exactly the ones registered here.

A handler runs inside the transaction that marks the row processed, with the row locked; what it
must read from the provider first (a network call) it does in its ``prepare`` step, before any
lock is taken. Its outcome names the order it touched, which the inbox stores on the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from payops.stripe.gateway import PaymentIntentData

if TYPE_CHECKING:
    from webhooks.models import InboxEvent


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: int
    object: dict[str, Any]
    # The PaymentIntent as Stripe has it now, when the event alone could not settle it (prepare step).
    current_intent: PaymentIntentData | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StripeEvent:
        return cls(
            id=payload["id"], type=payload["type"], created=int(payload["created"]), object=payload["data"]["object"]
        )


@dataclass(frozen=True)
class EventOutcome:
    applied: bool
    detail: str
    # The order processing touched (stored on the inbox row; the order's pages list its rows).
    order_id: int | None = None


class EventRefused(Exception):
    """The event can never be applied as it stands: recorded as failed without further attempts,
    for a person to look at (another attempt cannot help)."""


StripeHandler = Callable[[StripeEvent], EventOutcome]
StripePrepare = Callable[[StripeEvent], StripeEvent]
# Which order a delivery is about, read without changing anything: names the order of a row
# whose processing failed (and so touched nothing), for the order's pages and audit.
OrderOf = Callable[[Any], int | None]


@dataclass(frozen=True)
class _StripeRegistration:
    handle: StripeHandler
    prepare: StripePrepare | None
    order_of: OrderOf | None


@dataclass(frozen=True)
class _ProviderRegistration:
    handle: Callable[[InboxEvent], EventOutcome]
    order_of: OrderOf | None


_stripe: dict[str, _StripeRegistration] = {}
_providers: dict[str, _ProviderRegistration] = {}


def on_stripe_events(
    handlers: dict[str, StripeHandler],
    *,
    prepare: StripePrepare | None = None,
    order_of: Callable[[StripeEvent], int | None] | None = None,
) -> None:
    """Register a handler per Stripe event type. ``prepare`` runs before the processing
    transaction (it may call Stripe); ``order_of`` names the order of an event that failed."""
    for event_type, handle in handlers.items():
        registration = _StripeRegistration(handle, prepare, order_of)
        if _stripe.get(event_type, registration) != registration:
            raise ValueError(f"Stripe {event_type} events already have a handler")
        _stripe[event_type] = registration


def on_provider(
    prefix: str, handle: Callable[[InboxEvent], EventOutcome], *, order_of: Callable[[InboxEvent], int | None]
) -> None:
    """Register the handler for rows whose provider starts with ``prefix`` ("outside:")."""
    registration = _ProviderRegistration(handle, order_of)
    if _providers.get(prefix, registration) != registration:
        raise ValueError(f"provider {prefix!r} already has a handler")
    _providers[prefix] = registration


def stripe_event_types() -> tuple[str, ...]:
    """The Stripe event types some app handles, sorted (what an endpoint subscribes to)."""
    return tuple(sorted(_stripe))


def stripe_prepare(event: StripeEvent) -> StripeEvent:
    registration = _stripe.get(event.type)
    if registration is None or registration.prepare is None:
        return event
    return registration.prepare(event)


def stripe_handle(event: StripeEvent) -> EventOutcome:
    registration = _stripe.get(event.type)
    if registration is None:
        return EventOutcome(False, f"payops does not handle {event.type} events")
    return registration.handle(event)


def stripe_order_of(event: StripeEvent) -> int | None:
    registration = _stripe.get(event.type)
    if registration is None or registration.order_of is None:
        return None
    return registration.order_of(event)


def _provider(provider: str) -> _ProviderRegistration | None:
    return next((r for prefix, r in _providers.items() if provider.startswith(prefix)), None)


def provider_handle(row: InboxEvent) -> EventOutcome:
    registration = _provider(row.provider)
    if registration is None:
        return EventOutcome(False, f"no handler for provider {row.provider!r}")
    return registration.handle(row)


def provider_order_of(row: InboxEvent) -> int | None:
    registration = _provider(row.provider)
    return registration.order_of(row) if registration is not None and registration.order_of else None
