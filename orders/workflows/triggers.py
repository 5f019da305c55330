"""Order events that start, signal, pause, resume or stop the fulfilment workflow.

A reaction to every order event (registered in ``OrdersConfig.ready()``), run inside the
transaction that records it and with the order row locked, so the execution changes commit (or
roll back) with the event itself; a worker only learns of them after commit. Lock order: the
order, then the execution — the engine never takes an order lock while it holds an execution.

* ``order.paid`` starts the execution (one per order: a second payment event finds it);
* ``order.shipped`` signals the execution waiting for the shipment;
* staff approving the order directly (``order_approve``) decides the execution's approval;
* an open dispute pauses the execution until it closes; so does a Radar review that opens after
  the review decision (before it, an open review is a reason for the decision);
* the order leaving the workflow's hands (refunded, cancelled or flagged for attention by someone
  else) stops the execution, unless that is the workflow's own compensation at work.
"""

from __future__ import annotations

import logging

from django.conf import settings

from orders.models import Order, OrderEvent
from orders.models.orders import EventCause
from orders.services.fulfilment import fulfilment_hold_reasons
from orders.workflows import fulfilment
from orders.workflows.steps import shipment_output
from payops.workflow.models import ExecutionStatus, WorkflowExecution
from payops.workflow.services import (
    approval_decide,
    execution_pause,
    execution_resume,
    execution_send_success,
    execution_start,
    execution_stop,
)

logger = logging.getLogger(__name__)

_HOLD_EVENTS = frozenset({"dispute.opened", "dispute.closed", "payment.review_opened", "payment.review_closed"})
_HANDS_OFF_EVENTS = frozenset({"order.refunded", "order.cancelled", "order.needs_attention"})
_EVENTS = _HOLD_EVENTS | _HANDS_OFF_EVENTS | {"order.paid", "order.shipped", "order.fulfilling"}


def schedule_workflow_triggers(*, order: Order, event: OrderEvent) -> None:
    if event.type not in _EVENTS:
        return
    if event.type == "order.paid":
        _start(order)
        return
    execution = WorkflowExecution.objects.filter(
        workflow=fulfilment.NAME, order=order, status=ExecutionStatus.RUNNING
    ).first()
    if execution is None:
        return
    if event.type in _HOLD_EVENTS:
        sync_fulfilment_hold(order=order, execution=execution)
    elif event.type == "order.shipped":
        _signal_shipped(execution, event)
    elif event.type == "order.fulfilling":
        _approved_by_staff(execution, event)
    elif event.cause != EventCause.WORKFLOW and execution.current_state not in fulfilment.COMPENSATION_STATES:
        execution_stop(
            execution_id=execution.pk,
            error="Fulfilment.Superseded",
            cause=f"{event.type} by {event.cause} {event.cause_reference}".strip(),
        )


def _start(order: Order) -> None:
    if not settings.PAYOPS_FULFILMENT_WORKFLOW:
        return
    digital = not order.lines.filter(product__is_digital=False).exists()
    execution_start(
        workflow=fulfilment.NAME,
        order_id=order.pk,
        input={
            "order_id": order.pk,
            "order_number": order.number,
            "digital": digital,
            "settle_seconds": settings.PAYOPS_FULFILMENT_SETTLE_SECONDS,
        },
    )


def sync_fulfilment_hold(*, order: Order, execution: WorkflowExecution) -> None:
    """Pause the execution while something holds the shipment; resume it when nothing does."""
    holds = fulfilment_hold_reasons(order, reviews="review" in (execution.data or {}))
    if holds:
        execution_pause(execution_id=execution.pk, reason="; ".join(holds))
    else:
        execution_resume(execution_id=execution.pk)


def _signal_shipped(execution: WorkflowExecution, event: OrderEvent) -> None:
    execution_send_success(execution_id=execution.pk, state=fulfilment.SHIPMENT_STATE, output=shipment_output(event))


def _approved_by_staff(execution: WorkflowExecution, event: OrderEvent) -> None:
    """Staff approved the order itself (dashboard): that is the workflow's approval too."""
    ours = event.cause_reference.startswith("workflow:")  # the workflow's own ApproveOrder step
    if event.from_status != "awaiting_approval" or event.cause != EventCause.STAFF or ours:
        return
    if execution.current_state != fulfilment.APPROVAL_STATE:
        return
    approval_decide(
        execution_id=execution.pk,
        decision="approved",
        user=event.staff_user,
        note=str((event.data or {}).get("note") or ""),
    )
