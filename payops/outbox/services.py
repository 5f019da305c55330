"""Writing to the outbox, and what a person can do with it (retry dead rows).

``outbox_enqueue`` runs inside the caller's transaction: the event exists exactly when the change
it describes was committed. Publishing is the worker's job (``publisher.py``), kicked after commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from payops.after_commit import TaskHook
from payops.aws.eventbridge import EventEntry, EventTooLarge, check_entry_size
from payops.outbox.models import OutboxEvent, OutboxStatus

logger = logging.getLogger(__name__)


# The task that publishes what is pending (OutboxConfig.ready() connects it).
publish_hook = TaskHook("publish the outbox")


def _kick_publisher() -> None:
    publish_hook.delay()


def kick_publisher_on_commit() -> None:
    # robust: a broker that is down must not turn a committed change into an error for the
    # caller; the periodic sweep publishes what the kick could not.
    transaction.on_commit(_kick_publisher, robust=True)


def detail_json(detail: Mapping[str, Any]) -> str:
    """The detail exactly as it is sent (and measured): compact, UTF-8, keys in order."""
    return json.dumps(detail, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def entry_for(row: OutboxEvent) -> EventEntry:
    return EventEntry(
        key=str(row.pk),
        source=row.source,
        detail_type=row.detail_type,
        detail=detail_json(row.detail),
        time=row.occurred_at,
    )


def outbox_enqueue(
    *,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    aggregate: str,
    sequence: int,
    occurred_at: dt.datetime | None = None,
) -> OutboxEvent:
    """Record an event to publish. Call inside the transaction of the change it describes.

    The detail gains ``event_id``, payops's stable id for the event (EventBridge's own id changes
    with every PutEvents). A detail EventBridge would refuse for its size is never sent: the row
    is stored dead with the reason, so the change still commits and a person sees why.
    """
    event_id = uuid.uuid4()
    row = OutboxEvent(
        event_id=event_id,
        source=source,
        detail_type=detail_type,
        detail={"event_id": str(event_id), **{k: v for k, v in detail.items() if k != "event_id"}},
        aggregate=aggregate[:64],
        sequence=sequence,
        occurred_at=occurred_at or timezone.now(),
    )
    try:
        check_entry_size(entry_for(row))
    except EventTooLarge as exc:
        row.status = OutboxStatus.DEAD
        row.last_error = f"refused before sending: {exc}"
        logger.error("outbox event %s for %s refused: %s", detail_type, aggregate, exc)
    row.save()
    if row.status == OutboxStatus.PENDING:
        kick_publisher_on_commit()
    return row


@transaction.atomic
def outbox_retry(*, ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """A person sends dead rows round again; their attempts start from zero, the last error stays."""
    now = now or timezone.now()
    retried = 0
    for row in OutboxEvent.objects.select_for_update().filter(pk__in=list(ids), status=OutboxStatus.DEAD):
        try:
            check_entry_size(entry_for(row))
        except EventTooLarge:
            continue  # still too large: retrying would only fail the same way
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        retried += 1
    if retried:
        kick_publisher_on_commit()
    return retried


def outbox_purge_published(*, now: dt.datetime | None = None) -> int:
    """Delete published rows past the retention period (EventBridge's archive keeps the events)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.PAYOPS_OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxEvent.objects.filter(status=OutboxStatus.PUBLISHED, published_at__lt=cutoff).delete()
    return deleted
