"""The fulfilment workflow, started by ``order.paid`` (see ``orders/workflows/triggers.py``).

    SettlePayment (wait) → CommitStock → SendPaymentReceivedMail → PublishFulfilmentRequest
    → AssessReview → NeedsReview? ─ yes → RequestApproval → Approval ─ approved → ApproveOrder ┐
                                  └ no ───────────────────────────────────────────────────────┤
    ┌─────────────────────────────────────────────────────────────────────────────────────────┘
    └→ IsDigital? ─ yes → DeliverDigital ─┐
                  └ no → WaitForShipment ─┴→ SendShippedMail → CompleteOrder → Fulfilled

CompleteOrder marks a digital order delivered; a parcel stays ``shipped`` until staff confirm the
delivery or PAYOPS_DELIVERED_AFTER_DAYS pass (orders.tasks.mark_delivered_orders).

A rejection (or no decision in time) and any error before shipment run the compensation:
RefundPayment → ReturnStock → SendApologyMail → MarkRefunded → Compensated. If the compensation
fails after its retries, or something fails after shipment (no refund then: the goods are out),
the order goes to ``needs_attention`` and the execution fails with the reason.

An open dispute pauses the execution (``triggers``); so does a Radar review opened after
the review decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

from orders.workflows import compensation, steps
from payops.workflow.definition import (
    Approval,
    Catch,
    Choice,
    Compare,
    Fail,
    Retry,
    Rule,
    StepContext,
    Succeed,
    Task,
    Wait,
    Workflow,
)
from payops.workflow.registry import register

NAME = "order_fulfilment"
APPROVAL_STATE = "Approval"
SHIPMENT_STATE = "WaitForShipment"
COMPENSATION_STATES = frozenset(
    {
        "RefundPayment",
        "ReturnStock",
        "SendApologyMail",
        "MarkRefunded",
        "Compensated",
        "FlagCompensationFailed",
        "CompensationFailed",
    }
)

# Database hiccups (a deadlock, a lost connection), Stripe unreachable, a worker that died.
TRANSIENT = Retry(
    ("OperationalError", "InterfaceError", "GatewayUnavailable", "States.Timeout"),
    interval_seconds=5,
    max_attempts=5,
    backoff_rate=2.0,
    max_delay_seconds=300,
    jitter="FULL",
)
# A refund Stripe has not finished: look again for about five hours before asking a person.
REFUND_PENDING = Retry(
    ("RefundPending",), interval_seconds=60, max_attempts=10, backoff_rate=2.0, max_delay_seconds=3600
)
COMPENSATE = (Catch(("States.ALL",), next="RefundPayment", result_path="$.error"),)
ATTENTION = (Catch(("States.ALL",), next="FlagNeedsAttention", result_path="$.error"),)
COMPENSATION_FAILED = (Catch(("States.ALL",), next="FlagCompensationFailed", result_path="$.compensation_error"),)


def _approval_timeout() -> int:
    return settings.PAYOPS_FULFILMENT_APPROVAL_TIMEOUT_HOURS * 3600


def _shipment_timeout() -> int:
    return settings.PAYOPS_FULFILMENT_SHIPMENT_TIMEOUT_DAYS * 86400


def _task(
    run: Callable[[StepContext], Any],
    *,
    next: str,
    result_path: str | None,
    catch: tuple[Catch, ...] = COMPENSATE,
    retry: tuple[Retry, ...] = (TRANSIENT,),
) -> Task:
    return Task(run=run, next=next, result_path=result_path, retry=retry, catch=catch)


FULFILMENT = register(
    Workflow(
        name=NAME,
        start_at="SettlePayment",
        comment="payops order fulfilment: from payment to completion, with review and compensation",
        states={
            "SettlePayment": Wait(seconds_path="$.settle_seconds", next="CommitStock"),
            "CommitStock": _task(steps.commit_stock, result_path="$.stock", next="SendPaymentReceivedMail"),
            "SendPaymentReceivedMail": _task(
                steps.send_payment_received_mail,
                result_path="$.mails.payment_received",
                next="PublishFulfilmentRequest",
            ),
            "PublishFulfilmentRequest": _task(
                steps.publish_fulfilment_request, result_path="$.published", next="AssessReview"
            ),
            "AssessReview": _task(steps.assess_review, result_path="$.review", next="NeedsReview"),
            "NeedsReview": Choice(
                rules=(Rule(Compare("$.review.needed", "BooleanEquals", True), "RequestApproval"),),
                default="IsDigital",
            ),
            "RequestApproval": _task(steps.request_approval, result_path=None, next=APPROVAL_STATE),
            APPROVAL_STATE: Approval(
                on_approve="ApproveOrder",
                on_reject="RefundPayment",
                timeout_seconds=_approval_timeout,
                default="rejected",
                result_path="$.approval",
                # Stored in English (the definition's fingerprint must not depend on a language);
                # the approval page translates it.
                prompt=gettext_noop("Ship this order? Rejecting it refunds the payment in full."),
                details_path="$.review",
            ),
            "ApproveOrder": _task(steps.approve_order, result_path=None, next="IsDigital"),
            "IsDigital": Choice(
                rules=(Rule(Compare("$.digital", "BooleanEquals", True), "DeliverDigital"),),
                default=SHIPMENT_STATE,
            ),
            "DeliverDigital": _task(steps.deliver_digital, result_path="$.shipment", next="SendShippedMail"),
            SHIPMENT_STATE: Task(
                run=steps.await_shipment,
                callback=True,
                callback_timeout_seconds=_shipment_timeout,
                result_path="$.shipment",
                # Not States.Timeout: here it means "not shipped in time", for a person to look at.
                retry=(Retry(("OperationalError", "InterfaceError"), interval_seconds=5, jitter="FULL"),),
                catch=ATTENTION,
                next="SendShippedMail",
            ),
            "SendShippedMail": _task(
                steps.send_shipped_mail, result_path="$.mails.shipped", catch=ATTENTION, next="CompleteOrder"
            ),
            "CompleteOrder": _task(steps.complete_order, result_path=None, catch=ATTENTION, next="Fulfilled"),
            "Fulfilled": Succeed(),
            # --- compensation
            "RefundPayment": _task(
                compensation.refund_payment,
                result_path="$.compensation.refund",
                retry=(TRANSIENT, REFUND_PENDING),
                catch=COMPENSATION_FAILED,
                next="ReturnStock",
            ),
            "ReturnStock": _task(
                compensation.return_stock,
                result_path="$.compensation.stock",
                catch=COMPENSATION_FAILED,
                next="SendApologyMail",
            ),
            "SendApologyMail": _task(
                compensation.send_apology_mail,
                result_path="$.compensation.apology",
                catch=COMPENSATION_FAILED,
                next="MarkRefunded",
            ),
            "MarkRefunded": _task(
                compensation.mark_refunded,
                result_path="$.compensation.order",
                catch=COMPENSATION_FAILED,
                next="Compensated",
            ),
            "Compensated": Succeed(comment="refunded, stock returned, shopper told"),
            "FlagCompensationFailed": _task(
                compensation.flag_needs_attention, result_path="$.attention", catch=(), next="CompensationFailed"
            ),
            "CompensationFailed": Fail(error="Fulfilment.CompensationFailed", cause="the order needs attention"),
            "FlagNeedsAttention": _task(
                compensation.flag_needs_attention, result_path="$.attention", catch=(), next="NeedsAttention"
            ),
            "NeedsAttention": Fail(error="Fulfilment.NeedsAttention", cause="the order needs attention"),
        },
    )
)
