"""Shared steps for outbox tests: real order transitions, and faults injected into moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orders.models import Order
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment, order_mark_paid
from tests.factories import make_order, make_payment, make_product


def konbini_order_paid(*, amount: int = 3200) -> Order:
    """An awaiting konbini order that a webhook marks paid: two transitions, two events."""
    order = make_order(status="pending_payment", product=make_product(price_amount=amount))
    make_payment(order, method="konbini", status="requires_action")
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.webhook("evt_awaiting"))
    return order_mark_paid(order_id=order.pk, cause=Cause.webhook("evt_paid"), data={"amount_received": amount})


def card_order_paid(*, amount: int = 1500) -> Order:
    order = make_order(status="pending_payment", product=make_product(price_amount=amount))
    make_payment(order, method="card", status="succeeded")
    return order_mark_paid(order_id=order.pk, cause=Cause.webhook("evt_card"), data={"amount_received": amount})


@pytest.fixture
def failing_entries(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """moto answers PutEvents with a per-entry error for entries whose detail contains one of
    these strings (mark -> error code), and delivers the others: a partial failure as AWS reports it."""
    from moto.events.models import EventsBackend

    original = EventsBackend.put_events
    marks: dict[str, str] = {}

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(events)
        passed = [i for i, event in enumerate(events) if not any(m in event.get("Detail", "") for m in marks)]
        for i in set(range(len(events))) - set(passed):
            code = next(code for mark, code in marks.items() if mark in events[i].get("Detail", ""))
            results[i] = {"ErrorCode": code, "ErrorMessage": "injected entry failure"}
        if passed:
            for i, result in zip(passed, original(self, [events[i] for i in passed]), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    monkeypatch.setattr(EventsBackend, "put_events", put_events)
    return marks


def event_ids(envelopes: list[dict[str, Any]]) -> list[str]:
    return [envelope["detail"]["event_id"] for envelope in envelopes]


def put_events_counter(moto: Any) -> list[int]:
    """Entries per PutEvents call payops makes (counted on the wire, before moto answers)."""
    calls: list[int] = []

    def count(params: dict[str, Any], **kwargs: Any) -> None:
        calls.append(len(json.loads(params["body"])["Entries"]))

    moto.on("events", "before-call.events.PutEvents", count)
    return calls
