"""Which order a webhook inbox row is about.

Processed rows name themselves: the order events they caused carry the event id as their
``cause_reference``. A row that failed or waits has caused nothing yet, so it is matched by the
PaymentIntent its payload is about (Stripe) or the order number it names (outside payments).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orders.models import Order, OrderEvent, Payment
from orders.models.orders import EventCause


def payment_intent_in(payload: Any) -> str:
    """The PaymentIntent id a Stripe event is about ('' if none): the object itself for
    ``payment_intent.*``, its ``payment_intent`` field for charges, refunds, disputes, reviews."""
    obj = (payload or {}).get("data", {}).get("object", {}) if isinstance(payload, dict) else {}
    if not isinstance(obj, dict):
        return ""
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return str(intent or "")


def order_ids_for_inbox_rows(rows: Iterable[Any]) -> dict[int, int]:
    """inbox row pk -> order pk, for the rows that can be tied to an order (three queries)."""
    rows = list(rows)
    by_event = dict(
        OrderEvent.objects.filter(
            cause__in=[EventCause.WEBHOOK, EventCause.OUTSIDE_PAYMENT],
            cause_reference__in=[row.event_id for row in rows]
            + [f"{row.provider}:{row.event_id}" for row in rows if row.provider.startswith("outside:")],
        ).values_list("cause_reference", "order_id")
    )
    intents = {row.pk: payment_intent_in(row.payload) for row in rows}
    by_intent = dict(
        Payment.objects.filter(intent_id__in=[i for i in intents.values() if i]).values_list("intent_id", "order_id")
    )
    numbers = {
        row.pk: str(row.payload.get("order_number") or "")
        for row in rows
        if row.provider.startswith("outside:") and isinstance(row.payload, dict)
    }
    by_number = dict(Order.objects.filter(number__in=[n for n in numbers.values() if n]).values_list("number", "pk"))
    linked: dict[int, int] = {}
    for row in rows:
        order_id = (
            by_event.get(row.event_id)
            or by_event.get(f"{row.provider}:{row.event_id}")
            or by_intent.get(intents[row.pk])
            or by_number.get(numbers.get(row.pk, ""))
        )
        if order_id:
            linked[row.pk] = order_id
    return linked
