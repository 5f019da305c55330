"""Every staff action through both edges — the dashboard's forms and the REST API — reaches the
one staff layer: a user without the action's level is refused and nothing is written; a user
with it gets the change and one ``staff.*`` audit event naming them, the edge they came through
and the request's reference (issue 12.1)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from orders.models import Order, OrderEvent
from orders.services.staff_actions import StaffLevelMissing, StaffRequest, staff_refund
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from payops.workflow.definition import Approval, Fail, Succeed, Workflow
from payops.workflow.registry import register, unregister
from payops.workflow.services import execution_start
from tests.api.fixtures import as_token, fresh_rate_limits, make_staff  # noqa: F401  (autouse fixture)
from tests.dashboard.conftest import stripe_answers
from tests.factories import make_order, make_payment, make_product
from tests.stripe_events import intent_object, stripe_event
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

WORKFLOW = "edges-review"


@pytest.fixture(autouse=True)
def review_workflow():
    register(
        Workflow(
            WORKFLOW,
            "Approve",
            {
                "Approve": Approval(on_approve="Shipped", on_reject="Rejected", timeout_seconds=3600),
                "Shipped": Succeed(),
                "Rejected": Fail(error="Review.Rejected"),
            },
        )
    )
    yield
    unregister(WORKFLOW)


@pytest.fixture(autouse=True)
def stripe(fake_stripe):
    fake_stripe.responder = stripe_answers
    return fake_stripe


# --- what each action acts on ------------------------------------------------------------------


def paid() -> dict[str, Any]:
    order = make_order(status="paid", product=make_product(price_amount=5000), quantity=2)
    make_payment(order, intent_id=f"pi_paid_{order.pk}", status="succeeded", amount=10_000, amount_received=10_000)
    return {"order": order}


def unpaid() -> dict[str, Any]:
    order = make_order(status="awaiting_payment", product=make_product(price_amount=1500))
    make_payment(order, intent_id=f"pi_open_{order.pk}", method="konbini", status="requires_action")
    return {"order": order}


def held() -> dict[str, Any]:
    order = make_order(status="awaiting_approval")
    execution = execution_start(workflow=WORKFLOW, input={"order_id": order.pk}, order_id=order.pk)
    return {"order": order, "execution": execution}


def fulfilling() -> dict[str, Any]:
    return {"order": make_order(status="fulfilling")}


def failed_mail() -> dict[str, Any]:
    target = paid()
    target["mail"] = Mail.objects.create(
        idempotency_key=f"shipped:{target['order'].pk}",
        template="shipped",
        recipient="buyer@example.com",
        language="ja",
        reference=target["order"].number,
        status="failed",
    )
    return target


def dead_outbox_row() -> dict[str, Any]:
    target = paid()
    order = target["order"]
    target["row"] = OutboxEvent.objects.create(
        source="payops.orders",
        detail_type="order.paid",
        detail={"order": order.number},
        aggregate=order.number,
        sequence=1,
        status="dead",
        attempts=10,
    )
    return target


def failed_webhook() -> dict[str, Any]:
    target = unpaid()
    order = target["order"]
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(f"pi_open_{order.pk}", status="succeeded", amount=1500, order_id=order.pk),
    )
    target["row"] = InboxEvent.objects.create(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        event_created=event["created"],
        payload=event,
        status="failed",
        attempts=8,
        order_id=order.pk,  # named by the failed processing (webhooks/services/processing.py)
    )
    return target


# --- the actions, as each edge sends them ------------------------------------------------------

Request = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Case:
    action: str
    audit: str  # the staff.* event type the layer writes
    below: str  # the highest level that is not enough
    target: Callable[[], dict[str, Any]]
    dashboard: Callable[[dict[str, Any]], Request]
    api: Callable[[dict[str, Any]], Request]


def on_order(action: str) -> Callable[[dict[str, Any]], str]:
    return lambda t: f"/dashboard/orders/{t['order'].number}/actions/{action}/"


def staff_api(path: str) -> Callable[[dict[str, Any]], str]:
    return lambda t: f"/api/v1/staff/orders/{t['order'].number}/{path}/"


CASES = [
    Case(
        "refund",
        "staff.refund_requested",
        "operate",
        paid,
        lambda t: (on_order("refund")(t), {"amount": "1000", "reason": "damaged"}),
        lambda t: (staff_api("refunds")(t), {"amount": 1000, "reason": "damaged"}),
    ),
    Case(
        "cancel",
        "staff.order_cancelled",
        "view",
        unpaid,
        lambda t: (on_order("cancel")(t), {"reason": "customer asked"}),
        lambda t: (staff_api("cancel")(t), {"reason": "customer asked"}),
    ),
    Case(
        "approve",
        "staff.approval_decided",
        "view",
        held,
        lambda t: (on_order("approve")(t), {"note": "known customer"}),
        lambda t: (staff_api("approve")(t), {"note": "known customer"}),
    ),
    Case(
        "approve (execution)",
        "staff.approval_decided",
        "view",
        held,
        lambda t: (on_order("approve")(t), {"note": "known customer"}),
        lambda t: (
            f"/api/v1/staff/workflow-executions/{t['execution'].pk}/decision/",
            {"decision": "approved", "note": "known customer"},
        ),
    ),
    Case(
        "reject",
        "staff.approval_decided",
        "operate",
        held,
        lambda t: (on_order("reject")(t), {"note": "stolen card"}),
        lambda t: (staff_api("reject")(t), {"note": "stolen card"}),
    ),
    Case(
        "reject (execution)",
        "staff.approval_decided",
        "operate",
        held,
        lambda t: (on_order("reject")(t), {"note": "stolen card"}),
        lambda t: (
            f"/api/v1/staff/workflow-executions/{t['execution'].pk}/decision/",
            {"decision": "rejected", "note": "stolen card"},
        ),
    ),
    Case(
        "ship",
        "staff.shipment_recorded",
        "view",
        fulfilling,
        lambda t: (on_order("ship")(t), {"carrier": "Yamato", "tracking_number": "4455"}),
        lambda t: (staff_api("shipments")(t), {"carrier": "Yamato", "tracking_number": "4455"}),
    ),
    Case(
        "record_payment",
        "staff.payment_recorded",
        "view",
        unpaid,
        lambda t: (on_order("record_payment")(t), {"amount": "1500", "reference": "slip-7"}),
        lambda t: (staff_api("outside-payments")(t), {"amount": 1500, "currency": "JPY", "reference": "slip-7"}),
    ),
    Case(
        "note",
        "staff.note",
        "view",
        paid,
        lambda t: (on_order("note")(t), {"text": "customer called"}),
        lambda t: (staff_api("notes")(t), {"text": "customer called"}),
    ),
    Case(
        "mail_resend",
        "staff.mail_resent",
        "view",
        failed_mail,
        lambda t: ("/dashboard/operations/mail_resend/", {"ids": t["mail"].pk}),
        lambda t: (f"/api/v1/staff/mails/{t['mail'].pk}/resend/", {}),
    ),
    Case(
        "outbox_retry",
        "staff.outbox_retried",
        "view",
        dead_outbox_row,
        lambda t: ("/dashboard/operations/outbox_retry/", {"ids": t["row"].pk}),
        lambda t: (f"/api/v1/staff/outbox-events/{t['row'].pk}/retry/", {}),
    ),
    Case(
        "outbox_retry (many)",
        "staff.outbox_retried",
        "view",
        dead_outbox_row,
        lambda t: ("/dashboard/operations/outbox_retry/", {"ids": t["row"].pk}),
        lambda t: ("/api/v1/staff/outbox-events/retry/", {"ids": [t["row"].pk]}),
    ),
    Case(
        "webhook_replay",
        "staff.webhook_replayed",
        "view",
        failed_webhook,
        lambda t: ("/dashboard/operations/webhook_replay/", {"ids": t["row"].pk}),
        lambda t: (f"/api/v1/staff/webhook-events/{t['row'].pk}/replay/", {}),
    ),
    Case(
        "webhook_replay (many)",
        "staff.webhook_replayed",
        "view",
        failed_webhook,
        lambda t: ("/dashboard/operations/webhook_replay/", {"ids": t["row"].pk}),
        lambda t: ("/api/v1/staff/webhook-events/replay/", {"ids": [t["row"].pk]}),
    ),
]
ABOVE = {"view": "operate", "operate": "refund"}


def send(client: Any, edge: str, case: Case, target: dict[str, Any], user: Any) -> Any:
    if edge == "dashboard":
        url, data = case.dashboard(target)
        client.force_login(user)
        return client.post(url, {**data, "request_key": uuid.uuid4().hex, "confirm": "on"})
    url, body = case.api(target)
    return as_token(client, user).post(url, body, key=str(uuid.uuid4()))


def staff_events(order: Order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, type__startswith="staff."))


def succeeded(edge: str, response: Any) -> bool:
    return response.status_code == 303 if edge == "dashboard" else response.status_code in (200, 201)


@pytest.mark.parametrize("edge", ["dashboard", "api"])
@pytest.mark.parametrize("case", CASES, ids=[case.action for case in CASES])
def test_a_user_below_the_actions_level_is_refused_and_nothing_is_written(client, edge, case):
    target = case.target()
    events_before = OrderEvent.objects.filter(order=target["order"]).count()
    response = send(client, edge, case, target, make_staff("below", case.below))
    assert response.status_code == 403, response.content[:300]
    assert OrderEvent.objects.filter(order=target["order"]).count() == events_before


@pytest.mark.parametrize("edge", ["dashboard", "api"])
@pytest.mark.parametrize("case", CASES, ids=[case.action for case in CASES])
def test_the_action_is_done_and_audited_once_with_who_and_through_which_edge(client, edge, case):
    target = case.target()
    user = make_staff("doer", ABOVE[case.below])
    response = send(client, edge, case, target, user)
    assert succeeded(edge, response), (response.status_code, response.content[:400])
    (audit,) = staff_events(target["order"])
    assert audit.type == case.audit
    assert audit.staff_user == user and audit.cause == "staff"
    if edge == "dashboard":
        assert audit.data["via"] == "dashboard" and audit.cause_reference.startswith("form:")
    else:
        assert audit.data["via"].startswith("api token pyo_") and audit.cause_reference.startswith("api:")


def test_an_api_tokens_own_level_narrows_its_user_in_the_layer_too():
    # The API's gate checks the token's level; the layer checks it again, as it checks the user's.
    target = paid()
    refunder = make_staff("refunder", "refund")
    narrowed = StaffRequest(user=refunder, reference="api:narrowed", via="api token pyo_x", token_level="operate")
    with pytest.raises(StaffLevelMissing, match="token"):
        staff_refund(narrowed, order_id=target["order"].pk, amount=100, reason="")
    assert not staff_events(target["order"])


async def _next_message(layer: Any, channel: str) -> Any:
    try:
        return await asyncio.wait_for(layer.receive(channel), 0.2)
    except TimeoutError:
        return None


def test_staff_events_never_reach_the_shopper(client, django_capture_on_commit_callbacks):
    # Audit events are payops's own bookkeeping: not on the status page, not in the shopper API,
    # and not pushed to the shopper's live page (where they showed as raw "staff.note" before).
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from orders.live.messages import order_group
    from orders.services.staff_actions import staff_note

    order = paid()["order"]
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(order_group(order.token), channel)
    operator = make_staff("operator", "operate")
    with django_capture_on_commit_callbacks(execute=True):
        staff_note(StaffRequest(operator, "form:" + "a" * 32), order_id=order.pk, text="customer sounded angry")
    assert [e.type for e in staff_events(order)] == ["staff.note"]

    page = client.get(f"/orders/{order.token}/").content.decode()
    assert "staff." not in page and "angry" not in page
    api = client.get(f"/api/v1/orders/{order.token}/")
    assert api.status_code == 200 and "staff." not in api.content.decode()
    assert async_to_sync(_next_message)(layer, channel) is None
