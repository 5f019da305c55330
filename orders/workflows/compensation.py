"""Compensation: what the fulfilment workflow does when the order is rejected or cannot be
fulfilled. Refund in full through Stripe, give the stock back, apologise, leave the order
``refunded``; if that cannot be done, flag the order ``needs_attention`` with the reason.

Idempotent like every step: the refund's request key is the execution's, so Stripe is asked at
most once (and with the same idempotency key if asked again); the apology mail has its own key.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from orders.errors import ActionNotAllowed
from orders.models import Order, Refund
from orders.services.fulfilment import order_return_stock
from orders.services.order_events import record_order_event
from orders.services.order_mails import order_mail_enqueue, order_mail_key
from orders.services.refunds import order_refund
from orders.services.transitions import lock_order, order_mark_needs_attention, order_mark_refunded
from orders.state_machine import OrderStatus, is_transition_allowed
from orders.workflows.steps import order_id_of, workflow_cause
from payops.mail.models import MailTemplate
from payops.workflow.definition import StepContext


class RefundPending(Exception):
    """Stripe took the refund but has not finished it (some methods take days). Retried: each
    retry looks at the refund again, which webhooks keep up to date."""


class RefundFailed(Exception):
    """Stripe refused or failed the refund: a person must return the money another way."""


def compensation_reason(data: dict[str, Any]) -> str:
    """Why the order is being called off, in words for the order history and the refund."""
    error = data.get("error") or {}
    if error:
        return f"fulfilment failed: {error.get('Error')}: {error.get('Cause')}"[:500]
    approval = data.get("approval") or {}
    if approval.get("decision") == "rejected":
        if not approval.get("decided_by"):
            return "not approved in time"
        note = f": {approval['note']}" if approval.get("note") else ""
        return f"rejected by {approval.get('decided_by_name') or 'staff'}{note}"[:500]
    return "fulfilment called off"


def refund_request_key(execution_id: int) -> str:
    return f"workflow:{execution_id}:refund"


def refund_payment(ctx: StepContext) -> dict[str, Any]:
    """The full refund. A second run finds the refund by its request key and only looks at it
    (``order_refund`` asks Stripe again only for a refund Stripe never answered, same key)."""
    key = refund_request_key(ctx.execution_id)
    order_id = order_id_of(ctx)
    try:
        refund = order_refund(
            order_id=order_id,
            amount=None,
            reason=compensation_reason(ctx.input),
            cause=workflow_cause(ctx),
            request_key=key,
        )
    except ActionNotAllowed:
        order = Order.objects.get(pk=order_id)
        if not Refund.objects.filter(request_key=key).exists() and order.status == OrderStatus.REFUNDED:
            return {"refunded": False, "detail": "the order was refunded already"}
        raise
    if refund.status == "succeeded":
        return {"refunded": True, "refund_id": refund.refund_id, "amount": refund.amount, "currency": refund.currency}
    if refund.status in ("failed", "canceled"):
        raise RefundFailed(
            f"Stripe did not refund {refund.refund_id or refund.pk}: {refund.failure_reason or refund.status}"
        )
    raise RefundPending(f"refund {refund.refund_id or refund.pk} is {refund.status}")


def return_stock(ctx: StepContext) -> dict[str, Any]:
    returned = order_return_stock(
        order_id=order_id_of(ctx), cause=workflow_cause(ctx), reason=compensation_reason(ctx.input)
    )
    return {"returned": returned}


def send_apology_mail(ctx: StepContext) -> dict[str, Any]:
    """Runs after the refund: the mail says the order was cancelled and refunded, how much, and
    when the money arrives for the way the shopper paid."""
    order = Order.objects.select_related("customer").get(pk=order_id_of(ctx))
    refund = Refund.objects.filter(request_key=refund_request_key(ctx.execution_id)).select_related("payment").first()
    payment = refund.payment if refund else order.payments.filter(status="succeeded").order_by("-pk").first()
    refunded = {"amount": refund.amount if refund else order.total_amount, "currency": order.currency}
    with transaction.atomic():
        mail = order_mail_enqueue(
            order=order,
            template=MailTemplate.APOLOGY,
            key=order_mail_key(order, MailTemplate.APOLOGY, "workflow", ctx.execution_id),
            context={
                "reason": "order_cancelled",
                "cancelled_and_refunded": True,
                "refund": refunded,
                "method": payment.method if payment else "",
            },
        )
    return {"mail": mail.idempotency_key, "status": mail.status}


def mark_refunded(ctx: StepContext) -> dict[str, Any]:
    """The refund normally moved the order to ``refunded`` already (reconcile); this makes sure."""
    with transaction.atomic():
        order = lock_order(order_id_of(ctx))
        if order.status != OrderStatus.REFUNDED:
            if not is_transition_allowed(order.status, OrderStatus.REFUNDED):
                raise ActionNotAllowed(f"order {order.number} is {order.status} and cannot be marked refunded")
            order = order_mark_refunded(
                order_id=order.pk, cause=workflow_cause(ctx), data={"reason": compensation_reason(ctx.input)}
            )
    return {"status": order.status}


def flag_needs_attention(ctx: StepContext) -> dict[str, Any]:
    """A person must take over: the order moves to ``needs_attention`` with the failure as the
    reason (or, where it cannot move, the failure is recorded on its history)."""
    failure = ctx.input.get("compensation_error") or ctx.input.get("error") or {}
    what = "compensation failed" if ctx.input.get("compensation_error") else "fulfilment stopped"
    reason = f"{what}: {failure.get('Error')}: {failure.get('Cause')}"[:500]
    cause = workflow_cause(ctx)
    with transaction.atomic():
        order = lock_order(order_id_of(ctx))
        if order.status != OrderStatus.NEEDS_ATTENTION and is_transition_allowed(
            order.status, OrderStatus.NEEDS_ATTENTION
        ):
            order = order_mark_needs_attention(order_id=order.pk, cause=cause, reason=reason)
        elif not order.events.filter(type="fulfilment.needs_attention", cause_reference=cause.reference).exists():
            record_order_event(order=order, type="fulfilment.needs_attention", cause=cause, data={"reason": reason})
    return {"status": order.status, "reason": reason}
