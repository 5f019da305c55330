"""What a live order update says: the shopper's message (with the status page's fragments,
rendered in the order's language) and the merchant's, and the groups they go to.

Used by the broadcast after an order event (``orders/live/broadcast.py``) and by the WebSocket
consumers for the first snapshot.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from orders.models import Order, OrderEvent
from orders.presentation import event_label, money_json
from orders.selectors import order_snapshot

MERCHANT_GROUP = "merchant"


def order_group(token: str) -> str:
    return f"order.{token}"


def shopper_update_message(order: Order, *, event: OrderEvent | None) -> dict[str, Any]:
    """What the status page needs to redraw itself: the snapshot, the event, and the fragments."""
    with translation.override(order.locale):
        context = {"order": order, "payment": order.current_payment, "events": order.events.all()}  # type: ignore[attr-defined]
        return {
            "type": "order.updated" if event else "order.snapshot",
            "sequence": order.last_event_sequence,
            "order": order_snapshot(order),
            "event": _event_json(event) if event else None,
            "html": {
                "status": render_to_string("orders/partials/status.html", context),
                "next_step": render_to_string("orders/partials/next_step.html", context),
                "timeline": render_to_string("orders/partials/timeline.html", context),
            },
        }


def merchant_update_message(order: Order, event: OrderEvent) -> dict[str, Any]:
    payment = order.current_payment  # type: ignore[attr-defined]
    return {
        "type": "order.updated",
        "sequence": order.last_event_sequence,
        "order": {
            "number": order.number,
            "status": order.status,
            "status_display": str(order.get_status_display()),
            "total": money_json(order.total_amount, order.currency),
            "method": payment.method if payment else None,
            "email": order.customer.email,
            "created_at": order.created_at.isoformat(),
        },
        "event": _event_json(event),
    }


def _event_json(event: OrderEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "label": event_label(event.type),
        "sequence": event.sequence,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "created_at": event.created_at.isoformat(),
    }
