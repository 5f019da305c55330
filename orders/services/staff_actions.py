"""What staff do to an order, and to the mail, webhook and outbox rows around it.

Each action checks the staff level it needs (payops/staff/levels.py) before anything else, then
works through the domain service that owns the change. The same form submitted twice does the
work once: the form's key travels as the ``cause_reference`` of every order event the action
writes, so the order's own event log tells whether this request already ran. Actions on mail,
webhook and outbox rows that belong to an order leave an audit event on that order, with the
staff user, like every other change.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils.translation import gettext as _

from orders.errors import ActionNotAllowed, OrderError
from orders.models import Order, OrderEvent, Refund
from orders.models.orders import EventCause
from orders.services.cancellation import order_cancel_unpaid
from orders.services.fulfilment import order_approve, order_mark_shipped, order_note
from orders.services.order_events import Cause, record_order_event
from orders.services.outside_payments import OutsidePaymentRefused, order_record_outside_payment
from orders.services.refunds import order_refund
from orders.services.transitions import lock_order
from payops.mail.models import Mail
from payops.mail.services import mail_retry
from payops.money import Money
from payops.outbox.models import OutboxEvent
from payops.outbox.services import outbox_retry
from payops.staff.levels import StaffLevel, user_has_level
from payops.stripe.gateway import GatewayUnavailable
from payops.workflow.models import ExecutionStatus, StepStatus, WorkflowExecution
from payops.workflow.services import WorkflowActionNotAllowed, approval_decide
from webhooks.models import InboxEvent
from webhooks.services.replay import inbox_replay_many

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser
_REQUEST_KEY = re.compile(r"^[0-9a-f]{32}$")
# Rows one request may act on; more is a job for manage.py webhook_replay.
MAX_ROWS_PER_REQUEST = 200
OUTSIDE_SOURCE = "manual"


class StaffLevelMissing(OrderError):
    code = "permission_denied"


@dataclass(frozen=True)
class ActionResult:
    """``done`` is False when this very request had run already (a double submit)."""

    done: bool
    message: str


def ensure_staff_level(user: AnyUser | None, level: StaffLevel) -> User:
    """The user, as a staff user, when they hold ``level``; refused otherwise."""
    if user is None or not user_has_level(user, level):
        raise StaffLevelMissing(_("This needs the staff level “%(level)s”.") % {"level": level.label})
    return cast(User, user)


def request_reference(request_key: str) -> str:
    """The cause reference of a form submission; a malformed key is refused, never guessed at."""
    if not _REQUEST_KEY.match(request_key or ""):
        raise ActionNotAllowed(_("The form has expired; open it again."), field="request_key")
    return f"form:{request_key}"


def _already_ran(order_id: int, reference: str) -> bool:
    return OrderEvent.objects.filter(order_id=order_id, cause=EventCause.STAFF, cause_reference=reference).exists()


def _repeat() -> ActionResult:
    return ActionResult(False, _("This was already done (the form was sent twice)."))


# --- order actions ----------------------------------------------------------------------------


def staff_refund(*, user: AnyUser, order_id: int, amount: int | None, reason: str, request_key: str) -> ActionResult:
    """Refund ``amount`` minor units (everything refundable when None); the form key is the refund's key."""
    staff = ensure_staff_level(user, StaffLevel.REFUND)
    reference = request_reference(request_key)
    if Refund.objects.filter(request_key=reference).exists():
        return _repeat()
    try:
        refund = order_refund(
            order_id=order_id, amount=amount, reason=reason, cause=Cause.staff(staff, reference), request_key=reference
        )
    except GatewayUnavailable:
        return ActionResult(True, _("Stripe could not be reached. The refund is reserved and will be sent again."))
    shown = Money(refund.amount, refund.currency).format()
    if refund.status == "failed":
        raise ActionNotAllowed(
            _("Stripe refused the refund of %(amount)s: %(reason)s")
            % {"amount": shown, "reason": refund.failure_reason}
        )
    if refund.status == "succeeded":
        return ActionResult(True, _("Refunded %(amount)s.") % {"amount": shown})
    return ActionResult(
        True, _("Refund of %(amount)s sent to Stripe (%(status)s).") % {"amount": shown, "status": refund.status}
    )


def staff_cancel(*, user: AnyUser, order_id: int, reason: str, request_key: str) -> ActionResult:
    """Cancel an unpaid order: its PaymentIntents are cancelled at Stripe and its stock released."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    if _already_ran(order_id, reference):
        return _repeat()
    try:
        order_cancel_unpaid(order_id=order_id, cause=Cause.staff(staff, reference), reason=reason[:500])
    except ActionNotAllowed:
        if _already_ran(order_id, reference):  # the first submit won the race
            return _repeat()
        raise
    return ActionResult(True, _("Order cancelled; its stock is released."))


def waiting_approval(order_id: int) -> WorkflowExecution | None:
    """The order's workflow execution that waits for a person's decision, if any."""
    return (
        WorkflowExecution.objects.filter(
            order_id=order_id,
            status=ExecutionStatus.RUNNING,
            steps__kind="approval",
            steps__status=StepStatus.WAITING,
        )
        .order_by("pk")
        .first()
    )


def staff_decide(*, user: AnyUser, order_id: int, approve: bool, note: str, request_key: str) -> ActionResult:
    """Approve or reject an order held for review. The fulfilment workflow that waits for the
    decision takes it (a rejection runs its compensation: full refund and an apology mail); an
    order held without a workflow can be approved directly."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    decision = "approved" if approve else "rejected"
    with transaction.atomic():
        order = lock_order(order_id)
        if _already_ran(order_id, reference):
            return _repeat()
        execution = waiting_approval(order_id)
        if execution is not None:
            try:
                approval_decide(execution_id=execution.pk, decision=decision, user=staff, note=note)
            except WorkflowActionNotAllowed as exc:
                raise ActionNotAllowed(str(exc)) from exc
            record_order_event(
                order=order,
                type="staff.approval_decided",
                cause=Cause.staff(staff, reference),
                data={"decision": decision, "note": note[:500], "execution_id": execution.pk},
            )
        elif approve:
            order_approve(order_id=order_id, cause=Cause.staff(staff, reference), note=note)
        else:
            raise ActionNotAllowed(
                _("No workflow waits for a decision on order %(number)s; cancel or refund it instead.")
                % {"number": order.number}
            )
    if approve:
        return ActionResult(True, _("Order approved; fulfilment goes on."))
    return ActionResult(True, _("Order rejected; the workflow refunds the payment and tells the customer."))


def staff_mark_shipped(
    *, user: AnyUser, order_id: int, carrier: str, tracking_number: str, tracking_url: str, request_key: str
) -> ActionResult:
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    with transaction.atomic():
        lock_order(order_id)
        if _already_ran(order_id, reference):
            return _repeat()
        order_mark_shipped(
            order_id=order_id,
            cause=Cause.staff(staff, reference),
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
        )
    return ActionResult(True, _("Marked as shipped."))


def staff_note(*, user: AnyUser, order_id: int, text: str, request_key: str) -> ActionResult:
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    if not text.strip():
        raise ActionNotAllowed(_("The note is empty."), field="text")
    with transaction.atomic():
        lock_order(order_id)
        if _already_ran(order_id, reference):
            return _repeat()
        order_note(order_id=order_id, cause=Cause.staff(staff, reference), text=text.strip())
    return ActionResult(True, _("Note added."))


def staff_record_outside_payment(
    *, user: AnyUser, order_id: int, amount: int, reference: str, request_key: str
) -> ActionResult:
    """Money for the whole order received outside Stripe (a bank deposit seen by the merchant)."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    form_reference = request_reference(request_key)
    if not reference.strip():
        raise ActionNotAllowed(_("Give the payment's reference (bank slip, receipt number)."), field="reference")
    order = Order.objects.get(pk=order_id)
    try:
        outcome = order_record_outside_payment(
            order_number=order.number,
            amount=amount,
            currency=order.currency,
            source=OUTSIDE_SOURCE,
            reference=reference.strip()[:255],
            cause=Cause.staff(staff, form_reference),
        )
    except OutsidePaymentRefused as exc:
        raise ActionNotAllowed(str(exc)) from exc
    if not outcome.applied:
        return ActionResult(False, _("This payment was already recorded."))
    return ActionResult(True, _("Payment recorded; the order is paid."))


# --- rows around orders: mail, webhook inbox, outbox ---------------------------------------------


def _audit(*, order_id: int | None, staff: User, reference: str, type: str, data: dict) -> None:
    """The audit event of an action on a row around an order (none when the row has no order)."""
    if order_id is not None:
        order = lock_order(order_id)
        record_order_event(order=order, type=type, cause=Cause.staff(staff, reference), data=data)


def staff_mail_resend(*, user: AnyUser, mail_id: int, request_key: str) -> ActionResult:
    """Send a failed or unconfirmed mail again (its key stays: it is still that one mail)."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    mail = Mail.objects.get(pk=mail_id)
    order_id = Order.objects.filter(number=mail.reference).values_list("pk", flat=True).first()
    with transaction.atomic():
        if order_id is not None:
            lock_order(order_id)
            if _already_ran(order_id, reference):
                return _repeat()
        if not mail_retry(ids=[mail.pk]):
            raise ActionNotAllowed(
                _("This mail is %(status)s; only failed or unconfirmed mails are sent again.")
                % {"status": mail.get_status_display().lower()}
            )
        data = {"mail_id": mail.pk, "template": mail.template, "recipient": mail.recipient}
        _audit(
            order_id=order_id,
            staff=staff,
            reference=reference,
            type="staff.mail_resent",
            data=data,
        )
    logger.info("%s resent mail %s", staff.get_username(), mail.pk)
    return ActionResult(True, _("The mail will be sent again."))


def staff_outbox_retry(*, user: AnyUser, outbox_ids: list[int], request_key: str) -> ActionResult:
    """Send dead outbox rows round again."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    rows = list(OutboxEvent.objects.filter(pk__in=outbox_ids[:MAX_ROWS_PER_REQUEST]).values_list("pk", "aggregate"))
    orders = dict(Order.objects.filter(number__in={aggregate for _, aggregate in rows}).values_list("number", "pk"))
    with transaction.atomic():
        order_ids = {orders[aggregate] for _, aggregate in rows if aggregate in orders}
        for order_id in sorted(order_ids):
            lock_order(order_id)
        if order_ids and all(_already_ran(order_id, reference) for order_id in order_ids):
            return _repeat()
        retried = outbox_retry(ids=[pk for pk, _ in rows])
        if not retried:
            raise ActionNotAllowed(_("None of these events is dead; only dead events can be retried."))
        for order_id in sorted(order_ids):
            ids = [pk for pk, aggregate in rows if orders.get(aggregate) == order_id]
            _audit(
                order_id=order_id,
                staff=staff,
                reference=reference,
                type="staff.outbox_retried",
                data={"outbox_ids": ids},
            )
    logger.info("%s retried outbox rows %s", staff.get_username(), [pk for pk, _ in rows])
    return ActionResult(True, _("%(count)d event(s) will be published again.") % {"count": retried})


def staff_inbox_replay(*, user: AnyUser, inbox_ids: list[int], request_key: str) -> ActionResult:
    """Process webhook rows again now. Handlers are idempotent, so a replay never applies twice."""
    staff = ensure_staff_level(user, StaffLevel.OPERATE)
    reference = request_reference(request_key)
    rows = list(InboxEvent.objects.filter(pk__in=inbox_ids[:MAX_ROWS_PER_REQUEST]).order_by("received_at", "pk"))
    if not rows:
        raise ActionNotAllowed(_("Choose at least one webhook event."))
    linked = {row.pk: row.order_id for row in rows if row.order_id is not None}
    done_orders = {order_id for order_id in set(linked.values()) if _already_ran(order_id, reference)}
    todo = [row.pk for row in rows if linked.get(row.pk) not in done_orders]
    if not todo:
        return _repeat()
    summary = inbox_replay_many(inbox_ids=todo)
    with transaction.atomic():
        for order_id in sorted(set(linked.values()) - done_orders):
            ids = [pk for pk, linked_order in linked.items() if linked_order == order_id and pk in todo]
            _audit(
                order_id=order_id,
                staff=staff,
                reference=reference,
                type="staff.webhook_replayed",
                data={"inbox_ids": ids, "summary": summary},
            )
    logger.info("%s replayed inbox rows %s: %s", staff.get_username(), todo, summary)
    shown = ", ".join(f"{status} {count}" for status, count in sorted(summary.items()))
    return ActionResult(True, _("Replayed %(count)d event(s): %(summary)s.") % {"count": len(todo), "summary": shown})
