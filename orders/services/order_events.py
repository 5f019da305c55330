"""The single place where an order's history grows.

Every change of an order, whether it moves the status or not, is written here as an
append-only ``OrderEvent`` with its cause and the next per-order sequence number. What follows
from an event (outbox, mail, live pages, the fulfilment workflow) is registered in
``orders/reactions.py`` and run here, so no transition can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from orders.models import Order, OrderEvent
from orders.models.orders import EventCause
from orders.reactions import order_event_react


@dataclass(frozen=True)
class Cause:
    """Why something happened to an order: who or what, and a reference to look it up."""

    kind: str
    reference: str = ""
    staff_user: User | None = field(default=None, compare=False)

    @classmethod
    def customer(cls, reference: str = "") -> Cause:
        return cls(EventCause.CUSTOMER, reference)

    @classmethod
    def system(cls, reference: str) -> Cause:
        return cls(EventCause.SYSTEM, reference)

    @classmethod
    def webhook(cls, event_id: str) -> Cause:
        return cls(EventCause.WEBHOOK, event_id)

    @classmethod
    def staff(cls, user: User, reference: str = "") -> Cause:
        return cls(EventCause.STAFF, reference, user)


def record_order_event(
    *,
    order: Order,
    type: str,
    cause: Cause,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """Append an event to a locked order (the caller holds ``select_for_update`` on it)."""
    order.last_event_sequence += 1
    order.save(update_fields=["last_event_sequence", "updated_at"])
    event = OrderEvent.objects.create(
        order=order,
        sequence=order.last_event_sequence,
        type=type,
        from_status=from_status,
        to_status=to_status,
        data=data or {},
        cause=cause.kind,
        cause_reference=cause.reference[:255],
        staff_user=cause.staff_user,
    )
    order_event_react(order=order, event=event)
    return event
