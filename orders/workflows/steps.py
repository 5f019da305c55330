"""The fulfilment workflow's tasks, from payment to completion.

Each is a thin call into an order service and safe to run twice: the engine re-runs a step
whose worker died after its side effect, so every effect is found before it is made again
(the order's status, an order event already recorded, a mail's idempotency key).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from orders.models import Order, OrderEvent, Payment
from orders.models.orders import EventCause
from orders.services.fulfilment import (
    order_approve,
    order_deliver_digital,
    order_mark_delivered,
    order_request_approval,
    order_start_fulfilment,
)
from orders.services.order_events import Cause, record_order_event
from orders.services.order_mails import order_mail_enqueue, order_mail_key
from orders.services.transitions import lock_order
from orders.state_machine import OrderStatus
from payops.mail.models import Mail, MailTemplate
from payops.outbox.models import OutboxEvent
from payops.workflow.definition import Done, StepContext, StepError


def workflow_cause(ctx: StepContext) -> Cause:
    return Cause(EventCause.WORKFLOW, f"workflow:{ctx.execution_id}:{ctx.state}")


def order_id_of(ctx: StepContext) -> int:
    if ctx.order_id is None:
        raise StepError("States.Runtime", "the fulfilment workflow runs for an order")
    return ctx.order_id


def _order(ctx: StepContext) -> Order:
    return Order.objects.select_related("customer").get(pk=order_id_of(ctx))


def commit_stock(ctx: StepContext) -> dict[str, Any]:
    """Paid → fulfilling: the reservation becomes a committed stock movement."""
    order = order_start_fulfilment(order_id=order_id_of(ctx), cause=workflow_cause(ctx))
    return {"status": order.status, "stock_state": order.stock_state}


def send_payment_received_mail(ctx: StepContext) -> dict[str, Any]:
    """Make sure the shopper has the payment confirmation. ``order.paid`` normally enqueued it
    already (``order_mails``); the same idempotency key means this never makes a second one."""
    order = _order(ctx)
    received = Mail.objects.filter(idempotency_key=order_mail_key(order, MailTemplate.ORDER_RECEIVED)).first()
    mail = Mail.objects.filter(idempotency_key=order_mail_key(order, MailTemplate.PAYMENT_RECEIVED)).first()
    if mail is None and received is not None and received.context.get("paid"):
        mail = received  # paid at checkout: one mail confirmed the order and its payment
    if mail is None:
        amount = {"amount": order.total_amount, "currency": order.currency}
        with transaction.atomic():
            mail = order_mail_enqueue(
                order=order,
                template=MailTemplate.PAYMENT_RECEIVED,
                key=order_mail_key(order, MailTemplate.PAYMENT_RECEIVED),
                context={"amount_received": amount},
            )
    return {"mail": mail.idempotency_key, "template": mail.template, "status": mail.status}


def publish_fulfilment_request(ctx: StepContext) -> dict[str, Any]:
    """Tell the CRM and the fulfilment system: a ``fulfilment.requested`` order event, which
    ``order_publishing`` turns into an EventBridge outbox row in the same transaction."""
    with transaction.atomic():
        order = lock_order(order_id_of(ctx))
        event = order.events.filter(type="fulfilment.requested").first()
        if event is None:
            lines = [{"sku": sku, "quantity": qty} for sku, qty in order.lines.values_list("sku", "quantity")]
            event = record_order_event(
                order=order, type="fulfilment.requested", cause=workflow_cause(ctx), data={"lines": lines}
            )
    outbox_id = (
        OutboxEvent.objects.filter(aggregate=order.number, sequence=event.sequence)
        .values_list("event_id", flat=True)
        .first()
    )
    return {"sequence": event.sequence, "outbox_event_id": str(outbox_id) if outbox_id else None}


def assess_review(ctx: StepContext) -> dict[str, Any]:
    """Does a person have to look at this order before it ships? The reasons are shown to them."""
    order = _order(ctx)
    payment = Payment.objects.filter(order=order).exclude(intent_id=None).order_by("-pk").first()
    risk = _risk_level(order, payment)
    first_order = not Order.objects.filter(customer=order.customer, paid_at__isnull=False, pk__lt=order.pk).exists()
    reasons = []
    if payment is not None and payment.review_open:
        reasons.append("radar_review_open")
    if risk in settings.PAYOPS_FULFILMENT_REVIEW_RISK_LEVELS:
        reasons.append(f"risk_{risk}")
    if order.total_amount > settings.PAYOPS_FULFILMENT_REVIEW_OVER_AMOUNT:
        reasons.append("amount_over_threshold")
    if first_order and order.total_amount > settings.PAYOPS_FULFILMENT_FIRST_ORDER_REVIEW_OVER_AMOUNT:
        reasons.append("first_order_over_threshold")
    return {
        "needed": bool(reasons),
        "reasons": reasons,
        "risk_level": risk,
        "first_order": first_order,
        "amount": order.total_amount,
        "currency": order.currency,
    }


def _risk_level(order: Order, payment: Payment | None) -> str:
    """Radar's risk level of the charge. payops does not store ``charge.outcome.risk_level``
    yet; until a ``Payment.risk_level`` field exists, a payment Radar sent to review (open or
    closed since) counts as elevated."""
    stored = getattr(payment, "risk_level", "") if payment is not None else ""
    if stored:
        return str(stored)
    return "elevated" if order.events.filter(type="payment.review_opened").exists() else "normal"


def request_approval(ctx: StepContext) -> dict[str, Any]:
    reasons = list((ctx.input.get("review") or {}).get("reasons") or [])
    order = order_request_approval(order_id=order_id_of(ctx), cause=workflow_cause(ctx), reasons=reasons)
    return {"status": order.status}


def approve_order(ctx: StepContext) -> dict[str, Any]:
    """The approval was given (in the workflow): the order goes back to fulfilling, on the
    approver's name. If staff approved the order directly, it is already there."""
    approval = ctx.input.get("approval") or {}
    order = _order(ctx)
    if order.status == OrderStatus.AWAITING_APPROVAL:
        decided_by = approval.get("decided_by")
        user = get_user_model().objects.filter(pk=int(decided_by)).first() if decided_by else None
        reference = f"workflow:{ctx.execution_id}:{ctx.state}"
        cause = Cause.staff(user, reference) if user is not None else workflow_cause(ctx)
        order = order_approve(order_id=order.pk, cause=cause, note=str(approval.get("note") or ""))
    return {"status": order.status}


def deliver_digital(ctx: StepContext) -> dict[str, Any]:
    order = order_deliver_digital(order_id=order_id_of(ctx), cause=workflow_cause(ctx))
    return {"status": order.status, "digital": True}


def await_shipment(ctx: StepContext) -> Done | None:
    """Waits (callback) until staff enter the shipment; ``order.shipped`` sends the signal
    (``orders/workflows/triggers.py``). Already shipped: nothing to wait for."""
    order = _order(ctx)
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        event = order.events.filter(type="order.shipped").order_by("-sequence").first()
        return Done(shipment_output(event))
    return None


def shipment_output(event: OrderEvent | None) -> dict[str, Any]:
    data = event.data if event is not None else {}
    fields = ("carrier", "tracking_number", "tracking_url", "digital")
    return {"sequence": event.sequence if event else None, **{k: data[k] for k in fields if k in data}}


def send_shipped_mail(ctx: StepContext) -> dict[str, Any]:
    """The shipment mail, under the key ``order_mails`` uses for ``order.shipped``: one mail."""
    order = _order(ctx)
    event = order.events.filter(type="order.shipped").order_by("-sequence").first()
    if event is None:
        raise StepError("Fulfilment.NotShipped", f"order {order.number} has no shipment")
    context = {k: str(event.data.get(k) or "") for k in ("carrier", "tracking_number", "tracking_url")}
    with transaction.atomic():
        mail = order_mail_enqueue(
            order=order,
            template=MailTemplate.SHIPPED,
            key=order_mail_key(order, MailTemplate.SHIPPED, event.sequence),
            context=context,
        )
    return {"mail": mail.idempotency_key, "status": mail.status}


def complete_order(ctx: StepContext) -> dict[str, Any]:
    """Fulfilment ends here. A digital good is delivered the moment it is sent; a parcel stays
    shipped until staff confirm the delivery or the delivery sweep assumes it (ADR 0004)."""
    order = _order(ctx)
    if order.status == OrderStatus.SHIPPED and not order.lines.filter(product__is_digital=False).exists():
        order = order_mark_delivered(order_id=order.pk, cause=workflow_cause(ctx))
    return {"status": order.status}
