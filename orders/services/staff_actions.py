"""The staff layer: every staff action, from the dashboard and from the API, goes through here.

Each action

1. checks the staff level it needs (``STAFF_ACTION_LEVELS`` in orders/selectors.py; an API
   token's own level narrows its user's),
2. does the work once per request: the request's reference (the dashboard form's key, the API's
   Idempotency-Key) is the cause reference of every order event the action writes, so the
   order's own event log tells whether this request ran already,
3. works through the domain service that owns the change,
4. leaves a ``staff.*`` audit event on the order: who, through which edge (``via``), with what,

and returns facts (``StaffOutcome``). Wording them is the edge's job: the dashboard translates
them into a message, the API serializes them. Refusals are domain errors (orders/errors.py).

Actions on the mail, webhook and outbox rows around orders are in ``staff_operations``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils.translation import gettext as _

from orders.errors import ActionNotAllowed, OrderError
from orders.models import Order, OrderEvent, Refund
from orders.models.orders import EventCause
from orders.selectors import STAFF_ACTION_LEVELS, approval_waiting_execution
from orders.services.cancellation import order_cancel_unpaid
from orders.services.fulfilment import order_approve, order_mark_delivered, order_mark_shipped
from orders.services.order_events import Cause, record_order_event
from orders.services.outside_payments import OutsidePaymentRefused, order_record_outside_payment
from orders.services.refunds import order_refund
from orders.services.transitions import lock_order
from payops.staff.levels import level_includes, user_has_level
from payops.stripe.gateway import GatewayUnavailable
from payops.workflow.models import WorkflowExecution
from payops.workflow.services import WorkflowActionNotAllowed, approval_decide

AnyUser = AbstractBaseUser | AnonymousUser
_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")
OUTSIDE_SOURCE = "manual"


class StaffLevelMissing(OrderError):
    code = "permission_denied"


class NotWaitingForApproval(ActionNotAllowed):
    code = "not_waiting_for_approval"


class OutsidePaymentNotApplied(ActionNotAllowed):
    code = "outside_payment_refused"


@dataclass(frozen=True)
class StaffRequest:
    """Who acts, through which edge, and the reference that makes a repeat of the same request
    change nothing: ``form:<key>`` from the dashboard, ``api:<…>`` from the API."""

    user: AnyUser | None
    reference: str
    via: str = "dashboard"
    # An API token's own level: a "view" token of a user who may refund can still only read.
    token_level: str | None = None

    @classmethod
    def from_form(cls, user: AnyUser | None, request_key: str) -> StaffRequest:
        """The request of a dashboard form; a malformed key is refused, never guessed at."""
        if not _FORM_KEY.match(request_key or ""):
            raise ActionNotAllowed(_("The form has expired; open it again."), field="request_key")
        return cls(user=user, reference=f"form:{request_key}")

    def for_item(self, pk: int) -> StaffRequest:
        """The request for one of several rows it names: each row is its own action, done once."""
        return replace(self, reference=f"{self.reference}:{pk}")


@dataclass(frozen=True)
class StaffOutcome:
    """What an action did. ``repeated``: this request had run already, nothing was done now."""

    action: str
    repeated: bool = False
    order_id: int | None = None
    refund: Refund | None = None  # refund: the refund, also when repeated
    provider_unreachable: bool = False  # refund: reserved, Stripe not reached yet (a task retries)
    applied: bool = True  # record_payment: False when this payment was recorded before
    detail: str = ""  # record_payment: the domain service's account of it
    count: int = 0  # rows acted on (mail, outbox, webhook rows)
    summary: dict[str, int] = field(default_factory=dict)  # webhook replays: outcomes by status
    status: str = ""  # one webhook row replayed: its outcome


def ensure_staff_level(request: StaffRequest, action: str) -> User:
    """The user, as a staff user, when they (and their token) hold the level ``action`` needs."""
    level = STAFF_ACTION_LEVELS[action]
    if request.user is None or not user_has_level(request.user, level):
        raise StaffLevelMissing(_("This needs the staff level “%(level)s”.") % {"level": level.label})
    if request.token_level is not None and not level_includes(request.token_level, level):
        raise StaffLevelMissing(
            _("This token's level “%(token)s” does not cover “%(level)s”.")
            % {"token": request.token_level, "level": level.label}
        )
    return cast(User, request.user)


def already_ran(order_id: int, request: StaffRequest) -> bool:
    return OrderEvent.objects.filter(
        order_id=order_id, cause=EventCause.STAFF, cause_reference=request.reference
    ).exists()


def audit(*, order: Order, request: StaffRequest, staff: User, type: str, data: dict[str, Any]) -> None:
    """The ``staff.*`` event of an action on a locked order (staff events are never published)."""
    record_order_event(
        order=order, type=type, cause=Cause.staff(staff, request.reference), data={**data, "via": request.via}
    )


def _audit_locked(*, order_id: int, request: StaffRequest, staff: User, type: str, data: dict[str, Any]) -> None:
    with transaction.atomic():
        audit(order=lock_order(order_id), request=request, staff=staff, type=type, data=data)


# --- actions on one order ---------------------------------------------------------------------


def staff_refund(request: StaffRequest, *, order_id: int, amount: int | None, reason: str) -> StaffOutcome:
    """Refund ``amount`` minor units (everything refundable when None). The request's reference
    is the refund's own key: a repeat finds that refund (and sends it again if Stripe was not
    reached the first time) instead of making a second one."""
    staff = ensure_staff_level(request, "refund")
    repeated = Refund.objects.filter(request_key=request.reference).exists()
    cause = Cause.staff(staff, request.reference)
    unreachable = False
    try:
        refund = order_refund(
            order_id=order_id, amount=amount, reason=reason, cause=cause, request_key=request.reference
        )
    except GatewayUnavailable:
        refund, unreachable = Refund.objects.get(request_key=request.reference), True
    if not repeated:
        _audit_locked(
            order_id=order_id,
            request=request,
            staff=staff,
            type="staff.refund_requested",
            data={"amount": refund.amount, "reason": reason[:255], "refund_id": f"payops-{refund.pk}"},
        )
    return StaffOutcome("refund", repeated=repeated, order_id=order_id, refund=refund, provider_unreachable=unreachable)


def staff_cancel(request: StaffRequest, *, order_id: int, reason: str) -> StaffOutcome:
    """Cancel an unpaid order: its PaymentIntents are cancelled at Stripe and its stock released."""
    staff = ensure_staff_level(request, "cancel")
    if already_ran(order_id, request):
        return StaffOutcome("cancel", repeated=True, order_id=order_id)
    try:
        order_cancel_unpaid(order_id=order_id, cause=Cause.staff(staff, request.reference), reason=reason[:500])
    except ActionNotAllowed:
        if already_ran(order_id, request):  # the first of two submits won the race
            return StaffOutcome("cancel", repeated=True, order_id=order_id)
        raise
    _audit_locked(
        order_id=order_id, request=request, staff=staff, type="staff.order_cancelled", data={"reason": reason[:500]}
    )
    return StaffOutcome("cancel", order_id=order_id)


def staff_decide(request: StaffRequest, *, order_id: int, approve: bool, note: str) -> StaffOutcome:
    """Approve or reject an order held for review. The fulfilment workflow that waits for the
    decision takes it (a rejection runs its compensation: full refund and an apology mail); an
    order held without a workflow can be approved directly."""
    action = "approve" if approve else "reject"
    staff = ensure_staff_level(request, action)
    decision = "approved" if approve else "rejected"
    with transaction.atomic():
        order = lock_order(order_id)
        if already_ran(order_id, request):
            return StaffOutcome(action, repeated=True, order_id=order_id)
        execution = approval_waiting_execution(order_id)
        if execution is not None:
            try:
                approval_decide(execution_id=execution.pk, decision=decision, user=staff, note=note)
            except WorkflowActionNotAllowed as exc:
                raise ActionNotAllowed(str(exc)) from exc
        elif approve:
            order = order_approve(order_id=order_id, cause=Cause.staff(staff, request.reference), note=note)
        else:
            raise ActionNotAllowed(
                _("No workflow waits for a decision on order %(number)s; cancel or refund it instead.")
                % {"number": order.number}
            )
        data = {"decision": decision, "note": note[:500], "execution_id": execution.pk if execution else None}
        audit(order=order, request=request, staff=staff, type="staff.approval_decided", data=data)
    return StaffOutcome(action, order_id=order_id)


def staff_decide_execution(request: StaffRequest, *, execution_id: int, decision: str, note: str) -> StaffOutcome:
    """Decide the approval a workflow execution waits for, named by the execution."""
    action = "approve" if decision == "approved" else "reject"
    staff = ensure_staff_level(request, action)
    order_id = WorkflowExecution.objects.values_list("order_id", flat=True).get(pk=execution_id)
    with transaction.atomic():
        order = lock_order(order_id) if order_id is not None else None
        if order_id is not None and already_ran(order_id, request):
            return StaffOutcome(action, repeated=True, order_id=order_id)
        try:
            approval_decide(execution_id=execution_id, decision=decision, user=staff, note=note)
        except WorkflowActionNotAllowed as exc:
            raise NotWaitingForApproval(str(exc)) from exc
        if order is not None:
            data = {"decision": decision, "note": note[:500], "execution_id": execution_id}
            audit(order=order, request=request, staff=staff, type="staff.approval_decided", data=data)
    return StaffOutcome(action, order_id=order_id)


def staff_mark_shipped(
    request: StaffRequest, *, order_id: int, carrier: str, tracking_number: str, tracking_url: str
) -> StaffOutcome:
    staff = ensure_staff_level(request, "ship")
    with transaction.atomic():
        lock_order(order_id)
        if already_ran(order_id, request):
            return StaffOutcome("ship", repeated=True, order_id=order_id)
        order = order_mark_shipped(
            order_id=order_id,
            cause=Cause.staff(staff, request.reference),
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
        )
        data = {"carrier": carrier.strip(), "tracking_number": tracking_number.strip()}
        audit(order=order, request=request, staff=staff, type="staff.shipment_recorded", data=data)
    return StaffOutcome("ship", order_id=order_id)


def staff_mark_delivered(request: StaffRequest, *, order_id: int) -> StaffOutcome:
    """Staff confirm the parcel arrived (shipped -> delivered, ADR 0004)."""
    staff = ensure_staff_level(request, "deliver")
    with transaction.atomic():
        lock_order(order_id)
        if already_ran(order_id, request):
            return StaffOutcome("deliver", repeated=True, order_id=order_id)
        order = order_mark_delivered(order_id=order_id, cause=Cause.staff(staff, request.reference))
        audit(order=order, request=request, staff=staff, type="staff.delivery_confirmed", data={})
    return StaffOutcome("deliver", order_id=order_id)


def staff_note(request: StaffRequest, *, order_id: int, text: str) -> StaffOutcome:
    """A note on the order's timeline, for staff only; the note is its own audit event."""
    staff = ensure_staff_level(request, "note")
    if not text.strip():
        raise ActionNotAllowed(_("The note is empty."), field="text")
    with transaction.atomic():
        order = lock_order(order_id)
        if already_ran(order_id, request):
            return StaffOutcome("note", repeated=True, order_id=order_id)
        audit(order=order, request=request, staff=staff, type="staff.note", data={"text": text.strip()[:2000]})
    return StaffOutcome("note", order_id=order_id)


def staff_record_outside_payment(
    request: StaffRequest, *, order_id: int, amount: int, currency: str, reference: str
) -> StaffOutcome:
    """Money for the whole order received outside Stripe (a bank deposit seen by the merchant)."""
    staff = ensure_staff_level(request, "record_payment")
    if not reference.strip():
        raise ActionNotAllowed(_("Give the payment's reference (bank slip, receipt number)."), field="reference")
    if already_ran(order_id, request):
        return StaffOutcome("record_payment", repeated=True, order_id=order_id, applied=False)
    number = Order.objects.values_list("number", flat=True).get(pk=order_id)
    try:
        outcome = order_record_outside_payment(
            order_number=number,
            amount=amount,
            currency=currency,
            source=OUTSIDE_SOURCE,
            reference=reference.strip()[:255],
            cause=Cause.staff(staff, request.reference),
        )
    except OutsidePaymentRefused as exc:
        raise OutsidePaymentNotApplied(str(exc)) from exc
    if outcome.applied:
        data = {"amount": amount, "currency": currency, "reference": reference.strip()[:255]}
        _audit_locked(order_id=order_id, request=request, staff=staff, type="staff.payment_recorded", data=data)
    return StaffOutcome("record_payment", order_id=order_id, applied=outcome.applied, detail=outcome.detail)
