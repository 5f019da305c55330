"""The inbox dispatches to the handlers apps register, and names on each row the order it is about."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from tests.factories import make_order, make_payment
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks import handlers
from webhooks.handlers import EventOutcome, StripeEvent, on_stripe_events, stripe_event_types
from webhooks.models import InboxEvent
from webhooks.services.processing import inbox_process
from webhooks.services.receive import store_inbox_event

pytestmark = pytest.mark.django_db

# What payops acts on (docs/events.md): payments, refunds, disputes and Radar reviews.
ORDERS_STRIPE_TYPES = [
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.refund.updated",
    "charge.refunded",
    "payment_intent.canceled",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "refund.created",
    "refund.failed",
    "refund.updated",
    "review.closed",
    "review.opened",
]


@pytest.fixture
def isolated_stripe_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    registry = dict(handlers._stripe)
    monkeypatch.setattr(handlers, "_stripe", registry)
    return registry


def test_the_orders_app_registers_the_stripe_types_it_handles() -> None:
    assert list(stripe_event_types()) == ORDERS_STRIPE_TYPES


def test_a_type_an_app_registers_is_dispatched_to_it_and_subscribed(isolated_stripe_registry: object) -> None:
    seen: list[StripeEvent] = []

    def on_customer(event: StripeEvent) -> EventOutcome:
        seen.append(event)
        return EventOutcome(True, f"customer {event.object['id']} noted")

    on_stripe_events({"customer.created": on_customer})
    row = deliver(stripe_event("customer.created", {"object": "customer", "id": "cus_1"}, event_id="evt_cus_1"))

    assert [e.id for e in seen] == ["evt_cus_1"]
    assert (row.status, row.outcome, row.order_id) == ("processed", "customer cus_1 noted", None)
    assert "customer.created" in stripe_event_types()


def test_a_type_nobody_registered_is_ignored_not_failed() -> None:
    row = deliver(stripe_event("customer.created", {"object": "customer", "id": "cus_2"}))
    assert (row.status, row.outcome) == ("ignored", "payops does not handle customer.created events")


def test_a_second_handler_for_one_type_is_refused(isolated_stripe_registry: object) -> None:
    with pytest.raises(ValueError, match=r"payment_intent\.succeeded events already have a handler"):
        on_stripe_events({"payment_intent.succeeded": lambda event: EventOutcome(False, "")})


def test_a_processed_row_names_the_order_it_touched() -> None:
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_named", method="konbini", status="requires_action")
    other = make_order(status="awaiting_payment")
    make_payment(other, intent_id="pi_other", method="konbini", status="requires_action")

    paid = deliver(
        stripe_event(
            "payment_intent.succeeded", intent_object("pi_named", status="succeeded", amount=order.total_amount)
        )
    )
    refund = {"object": "refund", "id": "re_1", "payment_intent": "pi_named", "amount": 100, "status": "pending"}
    refunded = deliver(stripe_event("refund.created", refund))
    foreign = deliver(
        stripe_event("payment_intent.succeeded", intent_object("pi_not_ours", status="succeeded", amount=100))
    )

    assert (paid.status, paid.order_id) == ("processed", order.pk)
    assert (refunded.status, refunded.order_id) == ("processed", order.pk)
    assert (foreign.status, foreign.order_id) == ("ignored", None)


def test_a_failed_row_names_the_order_it_is_about(monkeypatch: pytest.MonkeyPatch) -> None:
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_fails", method="konbini", status="requires_action")

    def explode(event: StripeEvent) -> EventOutcome:
        raise RuntimeError("the warehouse is down")

    registered = handlers._stripe["charge.dispute.created"]
    monkeypatch.setitem(handlers._stripe, "charge.dispute.created", dataclasses.replace(registered, handle=explode))
    dispute = {"object": "dispute", "id": "dp_1", "payment_intent": "pi_fails", "amount": 100, "status": "open"}
    row = deliver(stripe_event("charge.dispute.created", dispute))

    assert (row.status, row.order_id) == ("failed", order.pk)


def test_a_failed_row_whose_payload_names_nothing_is_still_recorded_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(event: StripeEvent) -> EventOutcome:
        raise RuntimeError("broken")

    registered = handlers._stripe["charge.refunded"]
    monkeypatch.setitem(handlers._stripe, "charge.refunded", dataclasses.replace(registered, handle=explode))
    row = deliver(stripe_event("charge.refunded", {"object": "charge", "id": "ch_x", "payment_intent": None}))

    assert (row.status, row.last_error, row.order_id) == ("failed", "RuntimeError: broken", None)


def test_an_outside_payment_row_names_its_order_whether_applied_or_refused() -> None:
    order = make_order(status="awaiting_payment")
    refused_order = make_order(status="awaiting_payment")

    def outside(event_id: str, number: str, amount: int) -> InboxEvent:
        payload = {"id": event_id, "order_number": number, "amount": amount, "currency": "JPY"}
        receipt = store_inbox_event(
            provider="outside:bank", event_id=event_id, type="payment", api_version="", livemode=False,
            event_created=None, payload=payload,
        )  # fmt: skip
        assert receipt.inbox_id is not None
        inbox_process(inbox_id=receipt.inbox_id)
        return InboxEvent.objects.get(pk=receipt.inbox_id)

    applied = outside("dep_1", order.number, order.total_amount)
    refused = outside("dep_2", refused_order.number, refused_order.total_amount + 1)

    assert (applied.status, applied.order_id) == ("processed", order.pk)
    assert (refused.status, refused.attempts, refused.order_id) == ("failed", 1, refused_order.pk)


def test_the_inbox_imports_no_app_it_serves() -> None:
    """webhooks/ hands events to handlers that apps register; it imports none of those apps."""
    root = Path(__file__).resolve().parents[2] / "webhooks"
    offending = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                if isinstance(node, ast.Import) else []
            )  # fmt: skip
            offending += [f"{path.relative_to(root.parent)}: {n}" for n in names if n.split(".")[0] == "orders"]
    assert offending == []
