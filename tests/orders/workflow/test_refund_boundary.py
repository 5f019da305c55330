"""The refund boundary (issue 13.10, docs/adr/0016-one-staff-layer.md): rejecting an order held
for approval runs the fulfilment workflow's compensation, a full refund, so rejecting needs the
refund level — on every edge that can reject. Approving still needs only the operate level."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orders.models import Refund
from tests.api.fixtures import as_token, fresh_rate_limits, make_staff  # noqa: F401  (autouse fixture)
from tests.orders.workflow.conftest import refund_answer
from tests.workflow.helpers import reload, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(clock, pay, fake_stripe):
    """A paid order over the review amount, its fulfilment workflow waiting at the approval."""
    fake_stripe.responder = refund_answer()
    order, execution = pay(price=60_000, quantity=2)
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "Approval"
    return order, execution


def decide(client: Any, edge: str, user: Any, order: Any, execution: Any, decision: str) -> Any:
    action = "approve" if decision == "approved" else "reject"
    if edge == "dashboard":
        client.force_login(user)
        data = {"note": "checked", "request_key": uuid.uuid4().hex, "confirm": "on"}
        return client.post(f"/dashboard/orders/{order.number}/actions/{action}/", data)
    api = as_token(client, user)
    if edge == "api order":
        return api.post(f"/api/v1/staff/orders/{order.number}/{action}/", {"note": "checked"})
    return api.post(f"/api/v1/staff/workflow-executions/{execution.pk}/decision/", {"decision": decision})


def refunds_sent(fake_stripe: Any) -> list[Any]:
    return [r for r in fake_stripe.requests if r.method == "POST" and r.path == "/v1/refunds"]


EDGES = ["dashboard", "api order", "api execution"]


@pytest.mark.parametrize("edge", EDGES)
def test_an_operator_cannot_refund_by_rejecting(client, held, fake_stripe, edge):
    order, execution = held
    response = decide(client, edge, make_staff("operator", "operate"), order, execution, "rejected")

    assert response.status_code == 403, response.content[:300]
    run_due()
    assert reload(execution).current_state == "Approval"
    assert not Refund.objects.exists() and not refunds_sent(fake_stripe)
    order.refresh_from_db()
    assert order.status == "awaiting_approval"
    assert not order.events.filter(type__startswith="staff.").exists()


@pytest.mark.parametrize("edge", EDGES)
def test_a_refunder_rejects_and_the_workflow_refunds_in_full(client, held, fake_stripe, edge):
    order, execution = held
    refunder = make_staff("refunder", "refund")
    response = decide(client, edge, refunder, order, execution, "rejected")

    assert response.status_code in (200, 303), response.content[:300]
    run_due()
    (request,) = refunds_sent(fake_stripe)
    assert request.params["amount"] == "120000"
    order.refresh_from_db()
    assert order.status == "refunded"
    (audit,) = order.events.filter(type="staff.approval_decided")
    assert audit.staff_user == refunder and audit.data["decision"] == "rejected"


@pytest.mark.parametrize("edge", EDGES)
def test_an_operator_may_still_approve(client, held, fake_stripe, edge):
    order, execution = held
    response = decide(client, edge, make_staff("operator", "operate"), order, execution, "approved")

    assert response.status_code in (200, 303), response.content[:300]
    run_due()
    assert reload(execution).current_state != "Approval"
    assert not refunds_sent(fake_stripe)


def test_the_order_page_offers_reject_to_the_refund_level_only(client, held):
    order, _ = held
    client.force_login(make_staff("operator", "operate"))
    page = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert 'id="action-approve"' in page and 'id="action-reject"' not in page
    queue = client.get("/dashboard/operations/approvals/").content.decode()
    assert "/actions/approve/" in queue and "/actions/reject/" not in queue
    client.force_login(make_staff("refunder", "refund"))
    assert 'id="action-reject"' in client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert "/actions/reject/" in client.get("/dashboard/operations/approvals/").content.decode()
