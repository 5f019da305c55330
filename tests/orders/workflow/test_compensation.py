"""Compensation: a rejected or failed order is refunded in full through Stripe (the fake Stripe
API over HTTP), its stock returned, the shopper told; a compensation that cannot finish leaves
the order needs_attention with the reason. Workers that die mid-step repeat nothing."""

import pytest

from orders.models import Refund
from payops.mail.models import Mail
from payops.workflow import engine, runner
from payops.workflow.runner import workflow_recover
from payops.workflow.services import approval_decide
from tests.orders.workflow.conftest import refund_answer, stock_of
from tests.stripe_events import stripe_event
from tests.workflow.helpers import open_step, reload, run_due
from webhooks.handlers import StripeEvent, stripe_handle

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The worker process dies: nothing in payops catches it."""


@pytest.fixture
def no_jitter(monkeypatch):
    monkeypatch.setattr(engine._random, "random", lambda: 1.0)


@pytest.fixture
def awaiting_approval(clock, pay):
    """An order over the review amount, stopped at the approval."""
    order, execution = pay(price=60_000, quantity=2)
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "Approval"
    return order, execution


def refunds_sent(fake_stripe):
    return [r for r in fake_stripe.requests if r.method == "POST" and r.path == "/v1/refunds"]


def test_a_rejected_order_is_refunded_restocked_apologised_to_and_refunded(
    clock, awaiting_approval, staff, fake_stripe
):
    order, execution = awaiting_approval
    fake_stripe.responder = refund_answer()
    assert stock_of(order) == (8, 0)  # committed when fulfilment started

    approval_decide(execution_id=execution.pk, decision="rejected", user=staff, note="stolen card")
    run_due()

    execution = reload(execution)
    assert (execution.status, execution.current_state) == ("succeeded", "Compensated")
    (request,) = refunds_sent(fake_stripe)
    refund = Refund.objects.get(request_key=f"workflow:{execution.pk}:refund")
    assert (request.params["amount"], request.params["payment_intent"]) == ("120000", f"pi_wf_{order.pk}")
    assert request.idempotency_key == f"payops:refund:{refund.pk}"
    assert (refund.status, refund.reason) == ("succeeded", "rejected by clerk: stolen card")
    order.refresh_from_db()
    assert order.status == "refunded"
    assert stock_of(order) == (10, 0)
    assert order.events.get(type="stock.returned").data["reason"] == "rejected by clerk: stolen card"
    templates = sorted(Mail.objects.filter(reference=order.number).values_list("template", flat=True))
    assert templates == ["apology", "order_received", "refund_issued"]
    assert execution.output["compensation"] == {
        "refund": {"refunded": True, "refund_id": refund.refund_id, "amount": 120_000, "currency": "JPY"},
        "stock": {"returned": True},
        "apology": {"mail": f"order:{order.number}:apology:workflow:{execution.pk}", "status": "pending"},
        "order": {"status": "refunded"},
    }


def test_no_decision_in_time_is_a_rejection(clock, awaiting_approval, fake_stripe):
    order, execution = awaiting_approval
    fake_stripe.responder = refund_answer()
    clock.advance(48 * 3600 - 1)
    run_due()
    assert refunds_sent(fake_stripe) == []
    clock.advance(1)
    run_due()
    execution = reload(execution)
    assert execution.current_state == "Compensated"
    assert execution.steps.get(state="Approval").decision_note == "no decision within 172800 s"
    assert Refund.objects.get().reason == "not approved in time"
    order.refresh_from_db()
    assert order.status == "refunded"


def test_an_unrecoverable_error_before_shipment_runs_the_compensation(clock, pay, fake_stripe, monkeypatch):
    def crm_refuses(**kwargs):
        raise ValueError("the CRM refused the event")

    monkeypatch.setattr("orders.workflows.steps.record_order_event", crm_refuses)
    fake_stripe.responder = refund_answer()
    order, execution = pay()
    clock.advance(30)
    run_due()

    execution = reload(execution)
    assert execution.current_state == "Compensated"
    assert execution.data["error"] == {"Error": "ValueError", "Cause": "the CRM refused the event"}
    assert Refund.objects.get().reason == "fulfilment failed: ValueError: the CRM refused the event"
    order.refresh_from_db()
    assert (order.status, stock_of(order)) == ("refunded", (10, 0))


def test_a_refund_stripe_refuses_leaves_the_order_needing_attention(clock, awaiting_approval, staff, fake_stripe):
    order, execution = awaiting_approval
    fake_stripe.responder = lambda request: (
        400,
        {"error": {"type": "invalid_request_error", "code": "charge_disputed", "message": "The charge is disputed."}},
    )
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff)
    run_due()

    execution = reload(execution)
    assert (execution.status, execution.error) == ("failed", "Fulfilment.CompensationFailed")
    assert len(refunds_sent(fake_stripe)) == 1  # a refusal is not retried
    failed = execution.steps.get(state="RefundPayment")
    assert failed.error == "RefundFailed" and "The charge is disputed." in failed.cause
    order.refresh_from_db()
    assert order.status == "needs_attention"
    reason = order.events.get(type="order.needs_attention").data["reason"]
    assert reason.startswith("compensation failed: RefundFailed: Stripe did not refund")
    assert stock_of(order) == (8, 0)  # left for the person who takes over


def test_stripe_down_through_every_retry_leaves_the_order_needing_attention(
    clock, awaiting_approval, staff, fake_stripe, no_jitter
):
    order, execution = awaiting_approval
    fake_stripe.responder = lambda request: (500, {"error": {"type": "api_error", "message": "down"}})
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff)
    run_due()
    delays = []
    while reload(execution).status == "running":
        step = open_step(execution)
        delays.append((step.due_at - clock.now()).total_seconds())
        clock.advance(delays[-1])
        run_due()

    assert delays == [5, 10, 20, 40, 80]  # interval 5 s, backoff 2, five retries
    sent = refunds_sent(fake_stripe)
    assert len(sent) == 6
    assert len({r.idempotency_key for r in sent}) == 1  # Stripe sees one refund asked six times
    assert reload(execution).error == "Fulfilment.CompensationFailed"
    order.refresh_from_db()
    assert order.status == "needs_attention"
    assert "GatewayUnavailable" in order.events.get(type="order.needs_attention").data["reason"]


def test_a_pending_refund_is_looked_at_again_until_stripe_finishes_it(clock, awaiting_approval, staff, fake_stripe):
    order, execution = awaiting_approval
    fake_stripe.responder = refund_answer("pending")
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff)
    run_due()
    retry = open_step(execution)
    assert (retry.state, retry.attempt, execution.steps.get(attempt=1, state="RefundPayment").error) == (
        "RefundPayment",
        2,
        "RefundPending",
    )

    refund = Refund.objects.get()
    stripe_handle(
        StripeEvent.from_payload(
            stripe_event(
                "refund.updated",
                {
                    "id": refund.refund_id,
                    "object": "refund",
                    "amount": refund.amount,
                    "currency": "jpy",
                    "status": "succeeded",
                    "payment_intent": f"pi_wf_{order.pk}",
                    "metadata": {"payops_refund_id": str(refund.pk)},
                },
            )
        )
    )
    clock.advance(60)
    run_due()

    assert reload(execution).current_state == "Compensated"
    assert len(refunds_sent(fake_stripe)) == 1


def test_workers_killed_after_the_refund_and_after_the_apology_repeat_neither(
    clock, awaiting_approval, staff, fake_stripe, monkeypatch, no_jitter
):
    order, execution = awaiting_approval
    fake_stripe.responder = refund_answer()
    record = runner._record
    killed: list[str] = []

    def die_once_after(claim, **outcome):
        # the step's side effect is done; the worker dies before recording that it is
        if claim.context.state in ("RefundPayment", "SendApologyMail") and claim.context.state not in killed:
            killed.append(claim.context.state)
            raise WorkerKilled
        return record(claim, **outcome)

    monkeypatch.setattr(runner, "_record", die_once_after)
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff)
    with pytest.raises(WorkerKilled):
        run_due()  # the refund is made at Stripe, then the worker dies
    for _ in range(2):
        clock.advance(301)  # the step's lease (its timeout) runs out...
        assert workflow_recover()["timed_out"] == 1  # ...the sweep fails it with States.Timeout
        clock.advance(5)  # ...and the retry runs
        if killed == ["RefundPayment"]:
            with pytest.raises(WorkerKilled):
                run_due()  # the refund is found, the stock returned, the mail enqueued: dies again
        else:
            run_due()

    execution = reload(execution)
    assert killed == ["RefundPayment", "SendApologyMail"]
    assert execution.current_state == "Compensated"
    assert len(refunds_sent(fake_stripe)) == 1
    assert Refund.objects.count() == 1
    assert Mail.objects.filter(reference=order.number, template="apology").count() == 1
    timed_out = execution.steps.filter(error="States.Timeout").values_list("state", flat=True)
    assert sorted(timed_out) == ["RefundPayment", "SendApologyMail"]
    assert reload(order).status == "refunded"
