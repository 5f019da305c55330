"""The order-event reactions registry: what follows an order event is registered, not imported."""

from __future__ import annotations

import pytest

from orders import reactions
from orders.models import Order, OrderEvent
from orders.reactions import on_order_event, order_event_react, registered_reactions
from orders.services.order_events import Cause, record_order_event
from tests.factories import make_order


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    registry: list[object] = []
    monkeypatch.setattr(reactions, "_reactions", registry)
    return registry


def test_the_orders_app_registers_publishing_mails_broadcast_and_workflow_in_that_order() -> None:
    names = [f"{r.__module__}.{r.__name__}" for r in registered_reactions()]

    assert names == [
        "orders.services.order_publishing.order_event_publish",
        "orders.services.order_mails.order_event_mails",
        "orders.live.broadcast.schedule_order_broadcast",
        "orders.workflows.triggers.schedule_workflow_triggers",
    ]


def test_reactions_run_in_registration_order_and_once_each(isolated_registry: list[object]) -> None:
    seen: list[tuple[str, str]] = []

    def first(*, order: Order, event: OrderEvent) -> None:
        seen.append(("first", event.type))

    def second(*, order: Order, event: OrderEvent) -> None:
        seen.append(("second", event.type))

    on_order_event(first)
    on_order_event(second)
    on_order_event(first)  # registering again changes nothing
    order_event_react(order=Order(), event=OrderEvent(type="order.paid"))

    assert seen == [("first", "order.paid"), ("second", "order.paid")]


@pytest.mark.django_db
def test_record_order_event_runs_the_registered_reactions_with_the_event_it_wrote(
    isolated_registry: list[object],
) -> None:
    order = make_order()
    seen: list[tuple[int, int, str]] = []

    def reaction(*, order: Order, event: OrderEvent) -> None:
        seen.append((order.pk, event.sequence, event.type))

    on_order_event(reaction)
    event = record_order_event(order=order, type="order.created", cause=Cause.customer())

    assert event.pk is not None
    assert seen == [(order.pk, 1, "order.created")]
