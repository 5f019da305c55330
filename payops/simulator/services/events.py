"""Recording Stripe Events for every state change the simulator makes.

An event is a row holding the exact JSON that will be delivered; delivery to payops's webhook
endpoint happens after the transaction commits, in the background (``payops.simulator.delivery``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from payops.simulator.delivery import schedule_delivery
from payops.simulator.errors import no_such
from payops.simulator.models import SimEvent
from payops.simulator.stripe_objects import api_version, new_stripe_id, unix


@dataclass(frozen=True)
class ApiRequest:
    id: str
    idempotency_key: str | None


# The API request being served, so an event can name the request that caused it (Stripe's
# ``event.request``) without threading it through every service call. Events caused from the
# simulator's dashboard have none, as events caused from Stripe's dashboard do.
_current_request: ContextVar[ApiRequest | None] = ContextVar("simulator_api_request", default=None)


@contextmanager
def serving_api_request(*, request_id: str, idempotency_key: str | None) -> Iterator[None]:
    token = _current_request.set(ApiRequest(id=request_id, idempotency_key=idempotency_key))
    try:
        yield
    finally:
        _current_request.reset(token)


def record_event(*, type: str, data_object: dict[str, Any]) -> SimEvent:
    """Store an event with a snapshot of ``data_object`` as it is now, and schedule its delivery."""
    now = timezone.now()
    request = _current_request.get()
    event_id = new_stripe_id("evt")
    event: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "api_version": api_version(),
        "created": unix(now),
        "data": {"object": data_object},
        "livemode": False,
        # One endpoint receives the simulator's events: payops's own webhook.
        "pending_webhooks": 1,
        "request": {
            "id": request.id if request else None,
            "idempotency_key": request.idempotency_key if request else None,
        },
        "type": type,
    }
    row = SimEvent.objects.create(
        stripe_id=event_id,
        type=type,
        object_id=data_object["id"],
        body=json.dumps(event, indent=2, ensure_ascii=False),
        created=now,
        next_attempt_at=now,
    )
    schedule_delivery()
    return row


def redeliver_event(*, event_id: str) -> SimEvent:
    """Queue an event for delivery again (the dashboard's "Send again"), with a fresh set of retries."""
    event = SimEvent.objects.filter(stripe_id=event_id).first()
    if event is None:
        raise no_such("event", event_id)
    event.failed_at = None
    event.delivered_at = None
    event.attempts = 0
    event.next_attempt_at = timezone.now()
    event.save(update_fields=["failed_at", "delivered_at", "attempts", "next_attempt_at"])
    schedule_delivery()
    return event
