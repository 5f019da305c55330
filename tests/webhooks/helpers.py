from __future__ import annotations

from typing import Any

from webhooks.models import InboxEvent
from webhooks.services.processing import inbox_process
from webhooks.services.receive import store_inbox_event


def deliver(event: dict[str, Any]) -> InboxEvent:
    """Store an event in the inbox as the endpoint would, then process it as a worker would."""
    receipt = store_inbox_event(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        api_version=event.get("api_version", ""),
        livemode=event.get("livemode", False),
        event_created=event["created"],
        payload=event,
    )
    assert receipt.inbox_id is not None
    if not receipt.duplicate:
        inbox_process(inbox_id=receipt.inbox_id)
    return InboxEvent.objects.get(pk=receipt.inbox_id)
