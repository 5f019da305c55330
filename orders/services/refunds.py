"""Refunds asked for by staff or by the workflow's compensation.

Three steps, so no network call happens under a lock: reserve the refund (order locked: the
amount is checked against what is still refundable and a ``requested`` row is written), ask
Stripe (idempotency key from that row: a retried or double-submitted refund is one refund),
then record Stripe's answer and let ``order_reconcile`` move the order.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.errors import ActionNotAllowed
from orders.models import Payment, Refund
from orders.selectors import refundable_amount, refundable_payment
from orders.services.order_events import Cause, record_order_event
from orders.services.reconcile import order_reconcile
from orders.services.transitions import lock_order
from payops.money import Money
from payops.stripe.gateway import GatewayError, GatewayUnavailable, StripeGateway, get_gateway

logger = logging.getLogger(__name__)


def order_refund(
    *,
    order_id: int,
    amount: int | None,
    reason: str,
    cause: Cause,
    request_key: str,
    gateway: StripeGateway | None = None,
) -> Refund:
    """Refund ``amount`` (minor units; everything still refundable when None) of an order."""
    refund = _reserve_refund(order_id=order_id, amount=amount, reason=reason, cause=cause, request_key=request_key)
    if refund.status == "requested":
        refund_submit(refund_id=refund.pk, gateway=gateway)
        refund.refresh_from_db()
    return refund


@transaction.atomic
def _reserve_refund(*, order_id: int, amount: int | None, reason: str, cause: Cause, request_key: str) -> Refund:
    existing = Refund.objects.filter(request_key=request_key).first()
    if existing is not None:
        return existing  # the same request again (double submit, retried task)
    order = lock_order(order_id)
    payment = refundable_payment(order)
    if payment is not None:
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment is None:
        raise ActionNotAllowed(f"order {order.number} has no card or Stripe payment to refund ({order.status})")
    if amount is not None and amount <= 0:
        raise ActionNotAllowed(f"a refund amount must be more than zero, not {amount}")
    refundable = refundable_amount(payment)
    amount = refundable if amount is None else amount
    if refundable <= 0:
        raise ActionNotAllowed(f"nothing is left to refund on order {order.number}")
    if amount > refundable:
        raise ActionNotAllowed(
            f"at most {Money(refundable, payment.currency).format()} can still be refunded on order {order.number}"
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=payment,
                amount=amount,
                currency=payment.currency,
                reason=reason[:255],
                request_key=request_key,
                requested_by=cause.staff_user,
            )
    except IntegrityError:  # the same request at the same moment
        return Refund.objects.get(request_key=request_key)
    record_order_event(
        order=order,
        type="refund.requested",
        cause=cause,
        data={"amount": amount, "reason": reason[:255], "refund_id": f"payops-{refund.pk}"},
    )
    return refund


def refund_submit(*, refund_id: int, gateway: StripeGateway | None = None) -> Refund:
    """Ask Stripe for a reserved refund. Safe to call again: Stripe sees the same idempotency key."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != "requested":
        return refund
    try:
        answer = (gateway or get_gateway()).create_refund(
            intent_id=refund.payment.intent_id or "",
            amount=refund.amount,
            reason=refund.reason,
            idempotency_key=f"payops:refund:{refund.pk}",
            metadata={"payops_refund_id": str(refund.pk)},
        )
    except GatewayUnavailable:
        raise  # stays "requested"; the refund task retries with backoff
    except GatewayError as exc:
        return _record_refund_answer(refund_id=refund.pk, refund_id_at_stripe=None, status="failed", failure=str(exc))
    return _record_refund_answer(
        refund_id=refund.pk, refund_id_at_stripe=answer.id, status=answer.status, failure=answer.failure_reason
    )


@transaction.atomic
def _record_refund_answer(*, refund_id: int, refund_id_at_stripe: str | None, status: str, failure: str) -> Refund:
    order = lock_order(Refund.objects.values_list("payment__order_id", flat=True).get(pk=refund_id))
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    # If Stripe's webhook told us first, it already filled this row in (matched by metadata).
    if refund.status == "requested":
        refund.refund_id = refund_id_at_stripe
        refund.status = status
        refund.failure_reason = failure[:255]
        refund.save(update_fields=["refund_id", "status", "failure_reason", "updated_at"])
        cause = Cause.system(f"refund:{refund.pk}")
        if status in ("succeeded", "failed"):
            record_order_event(
                order=order,
                type=f"refund.{status}",
                cause=cause,
                data={
                    "refund_id": refund_id_at_stripe or f"payops-{refund.pk}",
                    "amount": refund.amount,
                    "failure_reason": refund.failure_reason,
                },
            )
        order_reconcile(order=order, payment=refund.payment, cause=cause)
    return refund


def refunds_awaiting_submission(*, older_than_seconds: int = 60) -> list[int]:
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return list(Refund.objects.filter(status="requested", created_at__lt=cutoff).values_list("pk", flat=True)[:200])
