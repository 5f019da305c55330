"""Order events published to other systems: every event becomes an outbox row for EventBridge.

A reaction to every order event (registered in ``OrdersConfig.ready()``), run inside the
transaction that records the event, so the row commits or rolls back with it; the outbox kicks
its publisher after commit. ``docs/events.md`` is the catalogue of the detail shapes.
"""

from __future__ import annotations

from typing import Any

from orders.models import Order, OrderEvent, Payment
from payops.outbox.services import outbox_enqueue

EVENT_SOURCE = "payops.orders"

# Event data fields that are public: other systems may see them. Anything else an event carries
# (now or later) stays inside payops, so no token or secret can leak into EventBridge by accident.
_PUBLIC_DATA_FIELDS = frozenset(
    {
        "amount",
        "approved",
        "dispute",
        "failure_reason",
        "outcome",
        "amount_received",
        "amount_refunded",
        "amount_remaining",
        "amount_due",
        "currency_received",
        "surplus",
        "carrier",
        "code",
        "lines",
        "message",
        "method",
        "payment_intent",
        "reason",
        "refund_id",
        "review",
        "total",
        "tracking_number",
        "tracking_url",
    }
)
# Staff notes and staff audit records are payops's own bookkeeping, not facts for other systems.
_UNPUBLISHED_PREFIXES = ("staff.",)
_MAX_TEXT = 500
_MAX_ITEMS = 100


def order_event_publish(*, order: Order, event: OrderEvent) -> None:
    if event.type.startswith(_UNPUBLISHED_PREFIXES):
        return
    payment = order.payments.order_by("-pk").first()
    outbox_enqueue(
        source=EVENT_SOURCE,
        detail_type=event.type,
        detail=order_event_detail(order=order, event=event, payment=payment),
        aggregate=order.number,
        sequence=event.sequence,
        occurred_at=event.created_at,
    )


def order_event_detail(*, order: Order, event: OrderEvent, payment: Payment | None) -> dict[str, Any]:
    """The EventBridge detail: small, token-free; consumers fetch more through the API."""
    return {
        "sequence": event.sequence,
        "occurred_at": event.created_at.isoformat(),
        "order": {
            "number": order.number,
            "status": order.status,
            "total": {"amount": order.total_amount, "currency": order.currency},
            "payment_method": payment.method if payment else None,
            "locale": order.locale,
        },
        "transition": {"from": event.from_status or None, "to": event.to_status} if event.to_status else None,
        "cause": event.cause,
        "data": _public_data(event.data),
    }


def _public_data(data: dict[str, Any]) -> dict[str, Any]:
    public: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _PUBLIC_DATA_FIELDS:
            continue
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:  # money
            public[key] = {"amount": int(value["amount"]), "currency": str(value["currency"])}
        elif isinstance(value, list):  # e.g. lines: [{"sku": ..., "quantity": ...}]
            items = [_flat(item) for item in value[:_MAX_ITEMS] if isinstance(item, dict)]
            public[key] = [item for item in items if item]
        elif _is_scalar(value):
            public[key] = value[:_MAX_TEXT] if isinstance(value, str) else value
    return public


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int))


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """A list item keeps only its scalar fields: nothing nested travels."""
    return {k: (v[:_MAX_TEXT] if isinstance(v, str) else v) for k, v in item.items() if _is_scalar(v)}
