"""Live order updates over the channel layer, sent only after the change has committed.

``record_order_event`` schedules a broadcast for every event; the broadcast reads the order as
committed and sends one message to the shopper's group (with the page fragments rendered once,
in the order's language) and one to the merchant group.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from orders.models import Order, OrderEvent
from orders.presentation import event_label, money_json
from orders.selectors import order_snapshot, order_with_details

logger = logging.getLogger(__name__)

MERCHANT_GROUP = "merchant"


def order_group(token: str) -> str:
    return f"order.{token}"


def schedule_order_broadcast(*, order: Order, event: OrderEvent) -> None:
    order_id, event_id = order.pk, event.pk
    transaction.on_commit(lambda: broadcast_order_update(order_id=order_id, event_id=event_id), robust=True)


def broadcast_order_update(*, order_id: int, event_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    order = order_with_details(order_id=order_id)
    event = OrderEvent.objects.get(pk=event_id)
    shopper_message = shopper_update_message(order, event=event)
    async_to_sync(layer.group_send)(order_group(order.token), {"type": "order.update", "message": shopper_message})
    async_to_sync(layer.group_send)(
        MERCHANT_GROUP, {"type": "order.update", "message": merchant_update_message(order, event)}
    )


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
