"""Order events that start or advance the fulfilment workflow (filled in by the workflow work)."""

from __future__ import annotations

from orders.models import Order, OrderEvent


def schedule_workflow_triggers(*, order: Order, event: OrderEvent) -> None:
    return None
