"""Staff actions on the rows around orders: mails sent again, webhook events processed again,
dead outbox events published again. Part of the staff layer (``staff_actions``): the same level
check, the same once-per-request guard, and a ``staff.*`` audit event on every order a row
belongs to. A row that belongs to no order has no timeline to audit on; the log records it.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from orders.errors import ActionNotAllowed
from orders.models import Order
from orders.services.staff_actions import StaffOutcome, StaffRequest, already_ran, audit, ensure_staff_level
from orders.services.transitions import lock_order
from payops.mail.models import Mail
from payops.mail.services import mail_retry
from payops.outbox.models import OutboxEvent
from payops.outbox.services import outbox_retry
from webhooks.models import InboxEvent
from webhooks.services.processing import inbox_replay

logger = logging.getLogger(__name__)

# Rows one request may act on; more is a job for manage.py webhook_replay.
MAX_ROWS_PER_REQUEST = 200


class RowBeingProcessed(ActionNotAllowed):
    code = "being_processed"


def staff_mail_resend(request: StaffRequest, *, mail_id: int) -> StaffOutcome:
    """Send a failed or unconfirmed mail again (its key stays: it is still that one mail)."""
    staff = ensure_staff_level(request, "mail_resend")
    mail = Mail.objects.get(pk=mail_id)
    order_id = Order.objects.filter(number=mail.reference).values_list("pk", flat=True).first()
    with transaction.atomic():
        order = lock_order(order_id) if order_id is not None else None
        if order_id is not None and already_ran(order_id, request):
            return StaffOutcome("mail_resend", repeated=True, order_id=order_id)
        if not mail_retry(ids=[mail.pk]):
            raise ActionNotAllowed(
                _("This mail is %(status)s; only failed or unconfirmed mails are sent again.")
                % {"status": mail.get_status_display().lower()}
            )
        if order is not None:
            data = {"mail_id": mail.pk, "template": mail.template, "recipient": mail.recipient}
            audit(order=order, request=request, staff=staff, type="staff.mail_resent", data=data)
    logger.info("%s resent mail %s (%s)", staff.get_username(), mail.pk, request.via)
    return StaffOutcome("mail_resend", order_id=order_id, count=1)


def staff_outbox_retry(request: StaffRequest, *, outbox_ids: list[int]) -> StaffOutcome:
    """Send dead outbox rows round again (``count``: how many were dead and went round)."""
    staff = ensure_staff_level(request, "outbox_retry")
    rows = list(OutboxEvent.objects.filter(pk__in=outbox_ids[:MAX_ROWS_PER_REQUEST]).values_list("pk", "aggregate"))
    orders = dict(Order.objects.filter(number__in={aggregate for _, aggregate in rows}).values_list("number", "pk"))
    order_ids = sorted({orders[aggregate] for _, aggregate in rows if aggregate in orders})
    with transaction.atomic():
        locked = {order_id: lock_order(order_id) for order_id in order_ids}
        if order_ids and all(already_ran(order_id, request) for order_id in order_ids):
            return StaffOutcome("outbox_retry", repeated=True)
        retried = outbox_retry(ids=[pk for pk, _ in rows])
        if retried:
            for order_id, order in locked.items():
                ids = [pk for pk, aggregate in rows if orders.get(aggregate) == order_id]
                audit(order=order, request=request, staff=staff, type="staff.outbox_retried", data={"outbox_ids": ids})
    logger.info(
        "%s retried outbox rows %s (%s): %d", staff.get_username(), [pk for pk, _ in rows], request.via, retried
    )
    return StaffOutcome("outbox_retry", count=retried)


def staff_inbox_replay(request: StaffRequest, *, inbox_ids: list[int]) -> StaffOutcome:
    """Process webhook rows again now, oldest first. Handlers are idempotent, so a replay never
    applies twice; a row a worker holds right now is skipped and counted as such."""
    staff = ensure_staff_level(request, "webhook_replay")
    rows = list(InboxEvent.objects.filter(pk__in=inbox_ids[:MAX_ROWS_PER_REQUEST]).order_by("received_at", "pk"))
    linked = _orders_of(rows)
    done_orders = {order_id for order_id in set(linked.values()) if already_ran(order_id, request)}
    todo = [row.pk for row in rows if linked.get(row.pk) not in done_orders]
    if rows and not todo:
        return StaffOutcome("webhook_replay", repeated=True)
    summary: Counter[str] = Counter()
    for inbox_id in todo:
        try:
            status = inbox_replay(inbox_id=inbox_id).status
        except ValueError as exc:  # a worker holds the row's lease
            status = f"skipped ({exc})"
        summary[status] += 1
    _audit_replays(request, staff, linked, todo, done_orders, dict(summary))
    logger.info("%s replayed inbox rows %s (%s): %s", staff.get_username(), todo, request.via, dict(summary))
    return StaffOutcome("webhook_replay", count=len(todo), summary=dict(summary))


def staff_inbox_replay_row(request: StaffRequest, *, inbox_id: int) -> StaffOutcome:
    """Process one webhook row again now; refused while a worker holds it."""
    staff = ensure_staff_level(request, "webhook_replay")
    row = InboxEvent.objects.get(pk=inbox_id)
    linked = _orders_of([row])
    if inbox_id in linked and already_ran(linked[inbox_id], request):
        return StaffOutcome("webhook_replay", repeated=True, order_id=linked[inbox_id])
    try:
        status = inbox_replay(inbox_id=inbox_id).status
    except ValueError as exc:
        raise RowBeingProcessed(str(exc)) from exc
    _audit_replays(request, staff, linked, [inbox_id], set(), {status: 1})
    logger.info("%s replayed inbox row %s (%s): %s", staff.get_username(), inbox_id, request.via, status)
    return StaffOutcome("webhook_replay", order_id=linked.get(inbox_id), count=1, status=status)


def _orders_of(rows: list[InboxEvent]) -> dict[int, int]:
    """Inbox row id → the order its processing touched (or, failed, is about)."""
    return {row.pk: row.order_id for row in rows if row.order_id is not None}


def _audit_replays(
    request: StaffRequest,
    staff: User,
    linked: dict[int, int],
    replayed: list[int],
    done_orders: set[int],
    summary: dict[str, int],
) -> None:
    # After the replays, which commit row by row: an order event per order the rows belong to.
    with transaction.atomic():
        for order_id in sorted(set(linked.values()) - done_orders):
            ids = [pk for pk, linked_order in linked.items() if linked_order == order_id and pk in replayed]
            if ids:
                audit(
                    order=lock_order(order_id),
                    request=request,
                    staff=staff,
                    type="staff.webhook_replayed",
                    data={"inbox_ids": ids, "summary": summary},
                )
