"""Processing the inbox: exactly once per event, retried with backoff, visible when it fails.

A worker first *claims* a row (status processing, attempt counted, lease set) in a short
transaction, so the dashboard sees it and a second worker leaves it alone. It then runs the
domain handler and marks the row processed **in the same transaction** as the handler's
writes: either both commit or neither does, so an event is applied once even if the worker
dies half-way (the lease runs out and the sweep takes the row again). The lease is short and
renewed by a heartbeat while the handler runs (webhooks/services/lease.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import traceback
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webhooks import handlers
from webhooks.handlers import EventOutcome, EventRefused, StripeEvent
from webhooks.models import InboxEvent, InboxStatus
from webhooks.services.lease import lease_expiry, lease_heartbeat
from webhooks.services.receive import STRIPE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessingResult:
    status: str
    retry_in: dt.timedelta | None = None


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with full jitter: 30 s, 1 min, 2 min ... capped at 6 h."""
    ceiling = min(30 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def inbox_process(*, inbox_id: int, now: dt.datetime | None = None) -> ProcessingResult:
    now = now or timezone.now()
    attempt = _claim(inbox_id=inbox_id, now=now)
    if attempt is None:
        return ProcessingResult(status="skipped")
    try:
        with lease_heartbeat(inbox_id=inbox_id, attempt=attempt):
            return _process_claimed(inbox_id=inbox_id, attempt=attempt)
    except Exception as exc:
        return _record_failure(inbox_id=inbox_id, attempt=attempt, exc=exc)


def _process_claimed(*, inbox_id: int, attempt: int) -> ProcessingResult:
    prepared = prepare_inbox_event(InboxEvent.objects.get(pk=inbox_id))
    with transaction.atomic():
        row = InboxEvent.objects.select_for_update().get(pk=inbox_id)
        if row.status != InboxStatus.PROCESSING or row.attempts != attempt:
            return ProcessingResult(status="skipped")  # our lease ran out and another worker took over
        outcome = route_inbox_event(row, prepared)
        row.status = InboxStatus.PROCESSED if outcome.applied else InboxStatus.IGNORED
        row.outcome = outcome.detail[:500]
        if outcome.order_id is not None:
            row.order_id = outcome.order_id
        row.processed_at = timezone.now()
        row.lease_expires_at = None
        row.next_attempt_at = None
        row.last_error = ""
        row.last_traceback = ""
        row.save()
        return ProcessingResult(status=row.status)


def prepare_inbox_event(row: InboxEvent) -> StripeEvent | None:
    """What must be read from the provider before processing, outside any transaction."""
    if row.provider == STRIPE:
        return handlers.stripe_prepare(StripeEvent.from_payload(row.payload))
    return None


def route_inbox_event(row: InboxEvent, prepared: StripeEvent | None) -> EventOutcome:
    """Hand an inbox row to the handler an app registered for its provider and type."""
    if row.provider == STRIPE:
        return handlers.stripe_handle(prepared or StripeEvent.from_payload(row.payload))
    return handlers.provider_handle(row)


def inbox_event_order(row: InboxEvent) -> int | None:
    """Which order a row is about, asked of its handler's app (for a row that touched none)."""
    if row.provider == STRIPE:
        return handlers.stripe_order_of(StripeEvent.from_payload(row.payload))
    return handlers.provider_order_of(row)


@transaction.atomic
def _claim(*, inbox_id: int, now: dt.datetime) -> int | None:
    row = InboxEvent.objects.select_for_update().filter(pk=inbox_id).first()
    if row is None or row.status in (InboxStatus.PROCESSED, InboxStatus.IGNORED):
        return None
    if row.status == InboxStatus.PROCESSING and row.lease_expires_at and row.lease_expires_at > now:
        return None
    row.status = InboxStatus.PROCESSING
    row.attempts += 1
    row.lease_expires_at = lease_expiry(now=now)
    row.save(update_fields=["status", "attempts", "lease_expires_at"])
    return row.attempts


def _record_failure(*, inbox_id: int, attempt: int, exc: Exception) -> ProcessingResult:
    permanent = isinstance(exc, EventRefused)
    exhausted = attempt >= settings.WEBHOOK_MAX_ATTEMPTS
    retry_in = None if permanent or exhausted else retry_delay(attempt)
    last_traceback = "" if permanent else traceback.format_exc()[-20000:]
    if permanent:
        logger.warning("inbox event %s refused: %s", inbox_id, exc)
    else:
        logger.exception("inbox event %s failed on attempt %s", inbox_id, attempt)
    InboxEvent.objects.filter(pk=inbox_id, attempts=attempt).update(
        status=InboxStatus.FAILED,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        last_traceback=last_traceback,
        lease_expires_at=None,
        next_attempt_at=timezone.now() + retry_in if retry_in else None,
    )
    _name_the_order(inbox_id=inbox_id)
    return ProcessingResult(status=InboxStatus.FAILED, retry_in=retry_in)


def _name_the_order(*, inbox_id: int) -> None:
    """A failed row touched nothing: name the order it is about, so the order's pages show it."""
    row = InboxEvent.objects.filter(pk=inbox_id, order_id=None).only("provider", "payload").first()
    if row is None:
        return
    try:
        order_id = inbox_event_order(row)
    except Exception:  # a payload too broken to say; the failure itself is recorded already
        logger.warning("inbox event %s: its order could not be named", inbox_id, exc_info=True)
        return
    if order_id is not None:
        InboxEvent.objects.filter(pk=inbox_id, order_id=None).update(order_id=order_id)


def inbox_due_for_processing(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Rows the sweep must (re)process: never picked up, abandoned by a dead worker, or due for a retry.

    A row locked right now is being processed by a live worker, whatever its lease says: skipped.
    """
    now = now or timezone.now()
    settle = now - dt.timedelta(seconds=settings.WEBHOOK_SWEEP_SETTLE_SECONDS)
    due = InboxEvent.objects.filter(
        Q(status=InboxStatus.RECEIVED, received_at__lt=settle)
        | Q(status=InboxStatus.PROCESSING, lease_expires_at__lt=now)
        | Q(status=InboxStatus.FAILED, next_attempt_at__lte=now)
    )
    with transaction.atomic():
        due = due.select_for_update(skip_locked=True).order_by("received_at")
        return list(due.values_list("pk", flat=True)[:limit])


@transaction.atomic
def inbox_reset_for_replay(*, inbox_id: int) -> None:
    """Make a row processable again with a fresh attempt budget (a person asked for it)."""
    row = InboxEvent.objects.select_for_update().get(pk=inbox_id)
    if row.status == InboxStatus.PROCESSING and row.lease_expires_at and row.lease_expires_at > timezone.now():
        raise ValueError(f"inbox event {inbox_id} is being processed right now")
    row.status = InboxStatus.RECEIVED
    row.attempts = 0
    row.next_attempt_at = None
    row.lease_expires_at = None
    row.save(update_fields=["status", "attempts", "next_attempt_at", "lease_expires_at"])


def inbox_replay(*, inbox_id: int) -> ProcessingResult:
    """Process a row again now, whatever happened to it before. Handlers are idempotent."""
    inbox_reset_for_replay(inbox_id=inbox_id)
    return inbox_process(inbox_id=inbox_id)
