"""What follows an order event: reactions that apps register, looked up by ``record_order_event``.

The core that records an order's history does not know what reacts to it — the outbox, mail,
live pages and the fulfilment workflow each register a reaction (``OrdersConfig.ready()``), so
adding one touches no service and no service imports its reactions (Saleor's plugin manager,
Django's signals, without the import circle).

A reaction runs inside the transaction that records the event, with the order row locked:
rows that must not be lost with a crash (outbox, mail, workflow changes) commit or roll back
with the event; what must only happen after commit (task kicks, broadcasts) the reaction
schedules with ``transaction.on_commit``. Reactions run in the order they were registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from orders.models import Order, OrderEvent


class OrderEventReaction(Protocol):
    def __call__(self, *, order: Order, event: OrderEvent) -> None: ...


_reactions: list[OrderEventReaction] = []


def on_order_event(reaction: OrderEventReaction) -> OrderEventReaction:
    """Register ``reaction`` for every order event (once, however often it is registered)."""
    if reaction not in _reactions:
        _reactions.append(reaction)
    return reaction


def order_event_react(*, order: Order, event: OrderEvent) -> None:
    for reaction in _reactions:
        reaction(order=order, event=event)


def registered_reactions() -> list[Callable[..., None]]:
    return list(_reactions)
