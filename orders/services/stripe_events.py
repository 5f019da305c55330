"""Apply Stripe events to orders, in whatever order and however often Stripe delivers them.

Each handler locks the order once, records the *facts* an event carries (a PaymentIntent
snapshot, a refund, a dispute, a review) on the payment — an older snapshot never overwrites a
newer one, and in the same second nothing moves backwards (orders/services/snapshots.py) — then
asks ``order_reconcile`` once to move the order to where the facts say it is, through the
transition table. Facts that are news in themselves (a partial funding, a refund that succeeded,
a dispute) are written once as order events, whatever the arrival order. Signed objects that lack
what payops reads are recorded as ignored with the reason (ADR 0019).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.db import transaction

from orders.models import Dispute, Order, Payment, Refund
from orders.services.order_events import Cause, record_order_event
from orders.services.payments import FINAL_INTENT_STATUSES, payment_record_intent
from orders.services.reconcile import order_reconcile
from orders.services.snapshots import snapshot_supersedes
from orders.services.transitions import lock_order
from payops.stripe.gateway import GatewayError, GatewayUnavailable, PaymentIntentData, StripeGateway, get_gateway
from webhooks.handlers import EventOutcome, StripeEvent

logger = logging.getLogger(__name__)


def prepare_stripe_event(event: StripeEvent, *, gateway: StripeGateway | None = None) -> StripeEvent:
    """Fetch from Stripe what the event alone cannot settle, before any row is locked.

    Two PaymentIntent events of the same second that disagree cannot be ordered by their
    ``created``; the intent's current state from Stripe decides. An intent payops does not know
    by id is read from Stripe too, to be matched to an order's payment. No network call happens
    while we hold locks, so this runs outside the processing transaction.
    """
    if not event.type.startswith("payment_intent."):
        return event
    intent = _parse_intent(event.object)
    if intent is None:
        return event  # the handler records it as malformed
    payment = Payment.objects.filter(intent_id=intent.id).first()
    if payment is None and str(intent.metadata.get("order_id", "")).isdigit():
        # Not ours by id: only Stripe's own copy may tie it to an order (_payment_for_intent).
        try:
            current = (gateway or get_gateway()).retrieve_payment_intent(intent.id)
        except GatewayUnavailable:
            raise  # the inbox retries later
        except GatewayError as exc:  # Stripe does not know it: it is no order's
            logger.warning("PaymentIntent %s naming an order is unknown to Stripe: %s", intent.id, exc)
            return event
        return StripeEvent(
            id=event.id, type=event.type, created=event.created, object=event.object, current_intent=current
        )
    if (
        payment is None
        or payment.status in FINAL_INTENT_STATUSES
        or payment.last_event_created != event.created
        or intent.status == payment.status
    ):
        return event
    current = (gateway or get_gateway()).retrieve_payment_intent(intent.id)
    return StripeEvent(id=event.id, type=event.type, created=event.created, object=event.object, current_intent=current)


# --- payment_intent.* -----------------------------------------------------------------------


def _on_payment_intent(event: StripeEvent) -> EventOutcome:
    intent = event.current_intent or _parse_intent(event.object)
    if intent is None:
        return EventOutcome(False, _malformed("payment_intent", event.object, _INTENT_FIELDS))
    payment = _payment_for_intent(intent, from_stripe=event.current_intent is not None)
    if payment is None:
        return EventOutcome(False, f"PaymentIntent {intent.id} does not belong to a payops order")
    outcome = _apply_intent_event(payment=payment, intent=intent, event=event, fresh=event.current_intent is not None)
    return replace(outcome, order_id=payment.order_id)


# --- signed but malformed: recorded as ignored with the reason, never a crash ------------------

# What payops reads of each object, and which of it must be a whole number.
_INTENT_FIELDS: dict[str, type] = {"id": str, "status": str, "amount": int, "currency": str}
_CHARGE_FIELDS: dict[str, type] = {"id": str, "payment_intent": str, "amount_refunded": int}
_REFUND_FIELDS: dict[str, type] = {"id": str, "payment_intent": str, "amount": int}
_REFUND_IN_CHARGE_FIELDS: dict[str, type] = {"id": str, "amount": int}
_DISPUTE_FIELDS: dict[str, type] = {"id": str, "payment_intent": str, "status": str, "amount": int}
_REVIEW_FIELDS: dict[str, type] = {"id": str, "payment_intent": str}


def _is_well_formed(obj: Any, fields: dict[str, type]) -> bool:
    if not isinstance(obj, dict):
        return False
    for name, kind in fields.items():
        value = obj.get(name)
        # bool is an int to Python, never to Stripe.
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
            return False
    return True


def _dict(value: Any) -> dict[str, Any]:
    """An optional nested object, or an empty one when Stripe sent none (or something else)."""
    return value if isinstance(value, dict) else {}


def _malformed(kind: str, obj: Any, fields: dict[str, type]) -> str:
    if not isinstance(obj, dict):
        return f"malformed {kind} event: the object is not a JSON object; nothing applied"
    wrong = sorted(name for name in fields if not _is_well_formed({name: obj.get(name)}, {name: fields[name]}))
    return f"malformed {kind} event: {', '.join(wrong)} missing or of the wrong type; nothing applied"


def _parse_intent(obj: Any) -> PaymentIntentData | None:
    if not _is_well_formed(obj, _INTENT_FIELDS):
        return None
    try:
        return PaymentIntentData.from_stripe(obj)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _payment_for_intent(intent: PaymentIntentData, *, from_stripe: bool) -> Payment | None:
    """The payops payment of an intent: by its id, or, when the event overtook checkout's own
    write of the id, by the order checkout named in the intent's metadata.

    Order ids are sequential, so metadata alone proves nothing: the intent must have been read
    from Stripe (``from_stripe``) and match the order's own payment — the order's number (not
    guessable), amount and currency, and a payment still waiting for its intent.
    """
    payment = Payment.objects.filter(intent_id=intent.id).first()
    if payment is not None or not from_stripe:
        return payment
    order_id = str(intent.metadata.get("order_id", ""))
    if not order_id.isdigit():
        return None
    candidate = (
        Payment.objects.filter(order_id=int(order_id), intent_id=None).select_related("order").order_by("-pk").first()
    )
    if candidate is None:
        return None
    matches = (
        intent.metadata.get("order_number") == candidate.order.number
        and intent.amount == candidate.amount
        and intent.currency == candidate.currency
    )
    if not matches:
        logger.warning("PaymentIntent %s names order %s but does not match its payment", intent.id, order_id)
        return None
    return candidate


@transaction.atomic
def _apply_intent_event(
    *, payment: Payment, intent: PaymentIntentData, event: StripeEvent, fresh: bool
) -> EventOutcome:
    """Apply an intent snapshot unless the payment holds a newer one, decided under the lock
    (``fresh``: read from Stripe just now to settle a same-second conflict). One lock of the
    order, one pass of reconcile."""
    order = lock_order(payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    cause = Cause.webhook(event.id)
    applied = payment_record_intent(
        order=order, payment=payment, intent=intent, event_created=event.created, fresh=fresh
    )
    if event.type == "payment_intent.partially_funded":
        _record_fact_once(
            order=order,
            type="payment.partially_funded",
            cause=cause,
            data={"payment_intent": intent.id, "amount_remaining": intent.amount_remaining},
        )
    order_reconcile(order=order, payment=payment, cause=cause)
    kept_out = "" if applied else "stale snapshot kept out; "
    return EventOutcome(True, f"{kept_out}order {order.number} is {order.status}")


def _record_fact_once(*, order: Order, type: str, cause: Cause, data: dict[str, Any]) -> None:
    """Record what one Stripe event told us, once even if the event is replayed."""
    if not order.events.filter(type=type, cause_reference=cause.reference).exists():
        record_order_event(order=order, type=type, cause=cause, data=data)


# --- events about a payment's charge (refunds, disputes, reviews) ----------------------------

PaymentHandler = Callable[[StripeEvent, Order, Payment, Cause], EventOutcome]


def _on_payops_payment(
    kind: str, fields: dict[str, type]
) -> Callable[[PaymentHandler], Callable[[StripeEvent], EventOutcome]]:
    """Find the payops payment the object belongs to (ignoring others and malformed objects),
    lock its order and the payment in one transaction, and hand both to the handler with the
    event as cause."""

    def decorate(handler: PaymentHandler) -> Callable[[StripeEvent], EventOutcome]:
        @functools.wraps(handler)
        def run(event: StripeEvent) -> EventOutcome:
            obj = event.object
            intent_id = obj.get("payment_intent") if isinstance(obj, dict) else None
            found = Payment.objects.filter(intent_id=intent_id).first() if isinstance(intent_id, str) else None
            if found is None:
                return EventOutcome(False, f"{kind} {_dict(obj).get('id')} does not belong to a payops order")
            if not _is_well_formed(obj, fields):
                return EventOutcome(False, _malformed(kind, obj, fields))
            with transaction.atomic():
                order = lock_order(found.order_id)
                payment = Payment.objects.select_for_update().get(pk=found.pk)
                return replace(handler(event, order, payment, Cause.webhook(event.id)), order_id=order.pk)

        return run

    return decorate


# --- charge.refunded, refund.* ------------------------------------------------------------------


@_on_payops_payment("charge", _CHARGE_FIELDS)
def _on_charge_refunded(event: StripeEvent, order: Order, payment: Payment, cause: Cause) -> EventOutcome:
    charge = event.object
    reported = int(charge.get("amount_refunded") or 0)
    # The charge's cumulative figure: two charge.refunded of one second keep the larger one.
    # The total that moves the order also sums the refunds by id (orders/coverage.py).
    if snapshot_supersedes(
        stored_created=payment.last_charge_event_created,
        created=event.created,
        stored_progress=payment.amount_refunded,
        progress=reported,
    ):
        payment.amount_refunded = reported
        payment.last_charge_event_created = event.created
        payment.save(update_fields=["amount_refunded", "last_charge_event_created", "updated_at"])
    listed = charge.get("refunds")
    for refund in (listed.get("data") or []) if isinstance(listed, dict) else []:
        if not _is_well_formed(refund, _REFUND_IN_CHARGE_FIELDS):
            logger.warning("charge %s lists a malformed refund; skipped", charge.get("id"))
            continue
        _upsert_refund(order=order, payment=payment, refund=refund, event=event, cause=cause)
    order_reconcile(order=order, payment=payment, cause=cause)
    return EventOutcome(True, f"order {order.number} refunded {payment.amount_refunded} in total")


@_on_payops_payment("refund", _REFUND_FIELDS)
def _on_refund(event: StripeEvent, order: Order, payment: Payment, cause: Cause) -> EventOutcome:
    refund = event.object
    _upsert_refund(order=order, payment=payment, refund=refund, event=event, cause=cause)
    order_reconcile(order=order, payment=payment, cause=cause)
    return EventOutcome(True, f"refund {refund.get('id')} is {refund.get('status')}")


_FINAL_REFUND_STATUSES = ("succeeded", "failed", "canceled")
# How far a refund has come; a succeeded refund can still fail later, never the other way round.
_REFUND_STAGE = {"requested": 0, "pending": 1, "requires_action": 1, "succeeded": 2, "failed": 3, "canceled": 3}


def _upsert_refund(*, order: Order, payment: Payment, refund: dict[str, Any], event: StripeEvent, cause: Cause) -> None:
    _claim_our_requested_refund(refund)
    row, created = Refund.objects.select_for_update().get_or_create(
        refund_id=refund["id"],
        defaults={
            "payment": payment,
            "amount": int(refund["amount"]),
            "currency": str(refund.get("currency", payment.currency)).upper(),
            "status": refund.get("status") or "pending",
            "failure_reason": refund.get("failure_reason") or "",
            "reason": _dict(refund.get("metadata")).get("reason", "")[:255],
            "last_event_created": event.created,
        },
    )
    previous = None if created else row.status
    status = refund.get("status") or row.status
    if not created and snapshot_supersedes(
        stored_created=row.last_event_created,
        created=event.created,
        stored_progress=_REFUND_STAGE.get(row.status, 0),
        progress=_REFUND_STAGE.get(status, 0),
    ):
        row.status = status
        row.failure_reason = refund.get("failure_reason") or row.failure_reason
        row.last_event_created = event.created
        row.save(update_fields=["status", "failure_reason", "last_event_created", "updated_at"])
    if row.status in _FINAL_REFUND_STATUSES and row.status != previous:
        record_order_event(
            order=order,
            type=f"refund.{row.status}",
            cause=cause,
            data={"refund_id": row.refund_id, "amount": row.amount, "failure_reason": row.failure_reason},
        )


def _claim_our_requested_refund(refund: dict[str, Any]) -> None:
    """A refund payops asked for is known by our row id in its metadata before we learn its id."""
    ours = str(_dict(refund.get("metadata")).get("payops_refund_id", ""))
    if ours.isdigit():
        Refund.objects.filter(pk=int(ours), refund_id=None).update(refund_id=refund["id"])


# --- charge.dispute.* --------------------------------------------------------------------------


@_on_payops_payment("dispute", _DISPUTE_FIELDS)
def _on_dispute(event: StripeEvent, order: Order, payment: Payment, cause: Cause) -> EventOutcome:
    dispute = event.object
    due = _dict(dispute.get("evidence_details")).get("due_by")
    row, created = Dispute.objects.select_for_update().get_or_create(
        dispute_id=dispute["id"],
        defaults={
            "payment": payment,
            "status": dispute["status"],
            "reason": dispute.get("reason") or "",
            "amount": int(dispute["amount"]),
            "currency": str(dispute.get("currency", payment.currency)).upper(),
            "evidence_due_by": dt.datetime.fromtimestamp(due, tz=dt.UTC) if isinstance(due, int) and due else None,
            "last_event_created": event.created,
        },
    )
    was_closed = not created and not row.is_open
    if not created and snapshot_supersedes(
        stored_created=row.last_event_created,
        created=event.created,
        stored_progress=_dispute_stage(row.status),
        progress=_dispute_stage(dispute["status"]),
    ):
        row.status = dispute["status"]
        row.last_event_created = event.created
        row.save(update_fields=["status", "last_event_created", "updated_at"])
    data = {"dispute": row.dispute_id, "reason": row.reason, "amount": row.amount}
    if created:
        due_by = row.evidence_due_by.isoformat() if row.evidence_due_by else None
        record_order_event(order=order, type="dispute.opened", cause=cause, data={**data, "evidence_due_by": due_by})
    if not row.is_open and not was_closed:
        record_order_event(order=order, type="dispute.closed", cause=cause, data={**data, "outcome": row.status})
    order_reconcile(order=order, payment=payment, cause=cause)
    return EventOutcome(True, f"dispute {row.dispute_id} is {row.status}; order {order.number} is {order.status}")


def _dispute_stage(status: str) -> int:
    if status in Dispute.CLOSED_STATUSES:
        return 2
    return 1 if status.endswith("under_review") else 0


# --- review.* (Radar) ---------------------------------------------------------------------------


@_on_payops_payment("review", _REVIEW_FIELDS)
def _on_review(event: StripeEvent, order: Order, payment: Payment, cause: Cause) -> EventOutcome:
    review = event.object
    is_open = bool(review.get("open"))
    # A review, once closed, stays closed: in one second the closing snapshot wins.
    if snapshot_supersedes(
        stored_created=payment.last_review_event_created,
        created=event.created,
        stored_progress=not payment.review_open,
        progress=not is_open,
    ):
        payment.review_open = is_open
        payment.last_review_event_created = event.created
        payment.save(update_fields=["review_open", "last_review_event_created", "updated_at"])
    kind = "opened" if event.type == "review.opened" else "closed"
    _record_fact_once(
        order=order,
        type=f"payment.review_{kind}",
        cause=cause,
        data={"review": review.get("id"), "reason": review.get("reason") or review.get("closed_reason") or ""},
    )
    return EventOutcome(True, f"review {review.get('id')} {kind}; fulfilment held: {payment.review_open}")


# --- what the orders app registers with the inbox (OrdersConfig.ready()) -----------------------


def stripe_event_order_id(event: StripeEvent) -> int | None:
    """Which order a Stripe event is about (None: not a payops order's), without changing anything."""
    obj = _dict(event.object)
    if obj.get("object") == "payment_intent":
        intent = event.current_intent or _parse_intent(obj)
        if intent is None:
            return None
        payment = _payment_for_intent(intent, from_stripe=event.current_intent is not None)
        return payment.order_id if payment is not None else None
    intent = obj.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if not isinstance(intent_id, str) or not intent_id:
        return None
    return Payment.objects.filter(intent_id=intent_id).values_list("order_id", flat=True).first()


STRIPE_HANDLERS: dict[str, Callable[[StripeEvent], EventOutcome]] = {
    "payment_intent.requires_action": _on_payment_intent,
    "payment_intent.processing": _on_payment_intent,
    "payment_intent.partially_funded": _on_payment_intent,
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.canceled": _on_payment_intent,
    "charge.refunded": _on_charge_refunded,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.refund.updated": _on_refund,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "review.opened": _on_review,
    "review.closed": _on_review,
}
