"""The fulfilment workflow from order.paid to completed: shipment, digital goods, review."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from orders.errors import ActionNotAllowed
from orders.models import Order
from orders.models.orders import StockState
from orders.services.fulfilment import order_approve, order_mark_shipped
from orders.services.order_events import Cause, record_order_event
from orders.services.transitions import lock_order
from orders.workflows.fulfilment import FULFILMENT
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from payops.workflow.asl import lambda_arn_for, to_asl
from payops.workflow.runner import step_run
from payops.workflow.selectors import execution_timeline
from tests.orders.workflow.conftest import stock_of
from tests.workflow.helpers import open_step, reload, run_due

pytestmark = pytest.mark.django_db


def states(execution):
    return [step.state for step in execution_timeline(execution_id=execution.pk).steps]


def test_a_paid_order_is_fulfilled_and_left_shipped(clock, pay, staff):
    order, execution = pay()
    assert (execution.current_state, open_step(execution).status) == ("SettlePayment", "waiting")
    assert execution.input == {
        "order_id": order.pk,
        "order_number": order.number,
        "digital": False,
        "settle_seconds": 30,
    }

    clock.advance(30)
    run_due()

    execution = reload(execution)
    assert states(execution) == [
        "SettlePayment",
        "CommitStock",
        "SendPaymentReceivedMail",
        "PublishFulfilmentRequest",
        "AssessReview",
        "NeedsReview",
        "IsDigital",
        "WaitForShipment",
    ]
    assert open_step(execution).status == "waiting"
    order.refresh_from_db()
    assert (order.status, order.stock_state) == ("fulfilling", StockState.COMMITTED)
    assert stock_of(order) == (8, 0)
    # one confirmation mail: order.paid made it, the step found it
    assert Mail.objects.filter(reference=order.number).count() == 1
    assert execution.data["mails"]["payment_received"]["mail"] == f"order:{order.number}:order_received"
    requested = order.events.get(type="fulfilment.requested")
    assert requested.cause == "workflow"
    assert OutboxEvent.objects.get(aggregate=order.number, sequence=requested.sequence).detail_type == (
        "fulfilment.requested"
    )
    assert execution.data["review"] == {
        "needed": False,
        "reasons": [],
        "risk_level": "normal",
        "first_order": True,
        "amount": 10_000,
        "currency": "JPY",
    }

    # Staff enter the shipment; order.shipped signals the waiting step.
    order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1234-5678")
    run_due()

    execution = reload(execution)
    assert (execution.status, execution.current_state) == ("succeeded", "Fulfilled")
    assert states(execution)[-4:] == ["WaitForShipment", "SendShippedMail", "CompleteOrder", "Fulfilled"]
    assert execution.output["shipment"]["carrier"] == "Yamato"
    order.refresh_from_db()
    assert order.status == "shipped"  # a parcel on its way is not delivered yet (issue 14.5)
    assert Mail.objects.filter(reference=order.number, template="shipped").count() == 1


def test_digital_goods_skip_the_shipment(clock, pay):
    order, execution = pay(digital=True)
    clock.advance(30)
    run_due()
    execution = reload(execution)
    assert execution.status == "succeeded"
    assert "WaitForShipment" not in states(execution)
    assert states(execution)[-4:] == ["DeliverDigital", "SendShippedMail", "CompleteOrder", "Fulfilled"]
    assert Order.objects.get(pk=order.pk).status == "delivered"  # a download arrives at once
    assert order.events.get(type="order.shipped").data == {"digital": True}


def test_a_shipment_entered_before_the_workflow_waits_for_it_is_not_waited_for(clock, pay, staff):
    order, execution = pay()
    clock.advance(30)
    step_run(step_id=open_step(execution).pk)  # the settle wait ends
    step_run(step_id=open_step(execution).pk)  # CommitStock: the order is fulfilling
    assert reload(execution).current_state == "SendPaymentReceivedMail"

    # Staff ship before the workflow got to the shipment: the signal finds nobody waiting...
    order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="JP Post", tracking_number="EJ1")
    run_due()

    # ...and the shipment step sees the order shipped when it gets there.
    execution = reload(execution)
    assert (execution.status, execution.output["shipment"]["carrier"]) == ("succeeded", "JP Post")
    assert execution.steps.get(state="WaitForShipment").status == "succeeded"


@pytest.mark.parametrize(
    ("kwargs", "prepare", "reason"),
    [
        ({"price": 60_000, "quantity": 2}, None, "amount_over_threshold"),
        ({"price": 20_000, "quantity": 2}, None, "first_order_over_threshold"),
        ({}, "review_open", "radar_review_open"),
        ({}, "reviewed_before", "risk_elevated"),
    ],
)
def test_orders_that_need_a_person_wait_for_approval(clock, pay, kwargs, prepare, reason):
    order, execution = pay(**kwargs)
    if prepare == "review_open":
        order.payments.update(review_open=True)
    if prepare == "reviewed_before":
        record_order_event(order=lock_order(order.pk), type="payment.review_opened", cause=Cause.webhook("evt_r"))
    clock.advance(30)
    run_due()
    execution = reload(execution)
    assert execution.current_state == "Approval"
    assert reason in execution.data["review"]["reasons"]
    order.refresh_from_db()
    assert order.status == "awaiting_approval"
    assert order.events.get(type="order.awaiting_approval").data["reasons"] == execution.data["review"]["reasons"]


def test_a_returning_customer_is_not_reviewed_for_the_first_order_rule(clock, pay):
    pay(price=1000, quantity=1)
    _, execution = pay(price=20_000, quantity=2)
    clock.advance(30)
    run_due()
    assert reload(execution).data["review"]["first_order"] is False
    assert execution.current_state == "WaitForShipment"


def test_approval_through_the_command_goes_on_to_shipment_on_the_approvers_name(clock, pay, staff):
    order, execution = pay(price=60_000)
    clock.advance(30)
    run_due()
    out = StringIO()
    call_command("workflow", "approvals", stdout=out)
    assert order.number in out.getvalue() and "amount_over_threshold" in out.getvalue()

    call_command("workflow", "approve", order.number, "--user", "clerk", "--note", "called the shopper", stdout=out)
    run_due()

    assert reload(execution).current_state == "WaitForShipment"
    order.refresh_from_db()
    assert order.status == "fulfilling"
    approved = order.events.filter(type="order.fulfilling").last()
    assert (approved.staff_user, approved.data["note"]) == (staff, "called the shopper")


def test_staff_approving_the_order_directly_is_the_workflows_approval(clock, pay, staff):
    order, execution = pay(price=60_000)
    clock.advance(30)
    run_due()
    order_approve(order_id=order.pk, cause=Cause.staff(staff, "form-1"), note="ok")  # the dashboard's action
    run_due()
    execution = reload(execution)
    assert execution.current_state == "WaitForShipment"
    approval = execution.steps.get(state="Approval")
    assert (approval.decision, approval.decided_by) == ("approved", staff)


def test_shipping_is_refused_while_a_dispute_is_open(pay, staff):
    from orders.models import Dispute

    order, _ = pay()
    Dispute.objects.create(
        payment=order.payments.get(), dispute_id="dp_hold", status="needs_response", amount=1, currency="JPY"
    )
    with pytest.raises(ActionNotAllowed, match="dispute dp_hold is open"):
        order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1")


def test_the_fulfilment_definition_exports_to_asl_step_functions_accepts():
    asl = to_asl(FULFILMENT, function_arn=lambda_arn_for(region="ap-northeast-1", account="123456789012"))
    AmazonStateLanguageParser.parse(json.dumps(asl))
    assert asl["StartAt"] == "SettlePayment"
    assert asl["States"]["ApprovalTimedOut"]["Result"] == {"decision": "rejected"}
    assert asl["States"]["WaitForShipment"]["TimeoutSeconds"] == 14 * 86400
