"""Publishing outbox rows to EventBridge.

A round claims due rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and keeps them locked until
their outcome is written: while a worker lives, no other worker can publish its rows (they skip
them and take the next ones), so a row is never published twice by two workers. The cost is a
transaction open across the PutEvents calls, bounded by botocore's timeouts (ADR 0005).

A worker that dies after PutEvents but before its commit leaves the rows pending, and they are
published again: delivery is at least once, and consumers deduplicate by ``detail.event_id``.

Failures are per entry. An entry that failed is retried with exponential backoff and jitter;
throttling and an unreachable EventBridge retry for as long as it takes (nothing is lost in an
outage), any other error makes the row dead after ``PAYOPS_OUTBOX_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from payops.aws import client as aws
from payops.aws.eventbridge import EntryResult, EventTooLarge, batches, check_entry_size, put_events
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.services import entry_for

logger = logging.getLogger(__name__)

# Rounds per task run: a backlog is drained in bounded slices so one task never runs forever.
MAX_ROUNDS_PER_RUN = 20


@dataclass
class PublishReport:
    published: int = 0
    retrying: int = 0
    dead: int = 0
    calls: int = 0
    skipped_reason: str = ""
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: PublishReport) -> None:
        self.published += other.published
        self.retrying += other.retrying
        self.dead += other.dead
        self.calls += other.calls
        for code, count in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + count

    @property
    def claimed(self) -> int:
        return self.published + self.retrying + self.dead


def outbox_publish_due(*, now: dt.datetime | None = None, max_rounds: int = MAX_ROUNDS_PER_RUN) -> PublishReport:
    """Publish every due pending row (in rounds of ``PAYOPS_OUTBOX_BATCH_SIZE``)."""
    report = PublishReport()
    if not aws.is_configured():
        # Not an attempt: the rows wait, untouched, until AWS is there.
        report.skipped_reason = "AWS is not configured"
        return report
    for _ in range(max_rounds):
        round_report = _publish_round(now=now or timezone.now())
        report.add(round_report)
        # Stop on an empty round, and after a round with failures: the failed rows are not due
        # again yet, and pressing on during throttling or an outage would only make it worse.
        if round_report.claimed == 0 or round_report.retrying or round_report.dead:
            break
    return report


@transaction.atomic
def _publish_round(*, now: dt.datetime) -> PublishReport:
    report = PublishReport()
    rows = list(
        OutboxEvent.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("id")[: settings.PAYOPS_OUTBOX_BATCH_SIZE]
    )
    if not rows:
        return report
    by_key = {str(row.pk): row for row in rows}
    failed: list[OutboxEvent] = []
    sendable = []
    for row in rows:
        entry = entry_for(row)
        try:
            check_entry_size(entry)
        except EventTooLarge as exc:
            _record_failure(row, code="EventTooLarge", message=str(exc), now=now, outage=False, final=True)
            failed.append(row)
            report.dead += 1
            continue
        sendable.append(entry)

    stopped = False
    published: list[tuple[int, str, dt.datetime]] = []
    for batch in batches(sendable):
        if stopped:
            break  # the rest stays pending, unattempted, for the next round
        report.calls += 1
        outage = False
        try:
            results = put_events(batch)
        except Exception as exc:  # every failure of the call is recorded on its rows
            code, message, outage = aws.error_code(exc), aws.describe_error(exc), aws.is_retryable(exc)
            logger.warning("PutEvents failed for %d outbox rows: %s", len(batch), message)
            results = [EntryResult(key=entry.key, error_code=code, error_message=message) for entry in batch]
            # Throttled or unreachable: more calls now would only add to the trouble.
            stopped = outage
        answered_at = timezone.now()
        for result in results:
            row = by_key[result.key]
            if result.ok:
                published.append((row.pk, result.event_id, answered_at))
                report.published += 1
                continue
            entry_outage = outage or aws.is_throttling(result.error_code) or result.error_code in aws.TRANSIENT_CODES
            _record_failure(
                row, code=result.error_code, message=result.error_message, now=now, outage=entry_outage, final=False
            )
            failed.append(row)
            report.errors[result.error_code] = report.errors.get(result.error_code, 0) + 1
            if row.status == OutboxStatus.DEAD:
                report.dead += 1
            else:
                report.retrying += 1

    _mark_published(published)
    if failed:
        OutboxEvent.objects.bulk_update(failed, ["status", "attempts", "last_error", "next_attempt_at"])
    return report


def _supports_update_from() -> bool:
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 33)  # Django 5.2 still runs on 3.31
    return connection.vendor == "postgresql"


def _mark_published(published: list[tuple[int, str, dt.datetime]]) -> None:
    """Record a round's published rows in one UPDATE ... FROM (VALUES ...).

    Django's bulk_update builds a CASE expression per row and field in Python; in the benchmark
    that was most of the publisher's time. Rows that failed are rare and take that slower path.
    """
    if not published:
        return
    if not _supports_update_from():
        for pk, event_id, at in published:
            OutboxEvent.objects.filter(pk=pk).update(
                status=OutboxStatus.PUBLISHED,
                attempts=F("attempts") + 1,
                published_at=at,
                eventbridge_event_id=event_id,
                last_error="",
            )
        return
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(published))
    params: list[Any] = [OutboxStatus.PUBLISHED]
    for pk, event_id, at in published:
        params += [pk, event_id, connection.ops.adapt_datetimefield_value(at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, last_error = '', "  # noqa: S608 - no input
            f"eventbridge_event_id = v.column2, published_at = v.column3 "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
            params,
        )


def _record_failure(row: OutboxEvent, *, code: str, message: str, now: dt.datetime, outage: bool, final: bool) -> None:
    row.attempts += 1
    reason = message if message.startswith(code) else f"{code}: {message}"
    row.last_error = f"attempt {row.attempts}: {reason}"[:2000]
    # Throttling or an unreachable EventBridge is not the event's fault: such rows never die of it.
    if final or (not outage and row.attempts >= settings.PAYOPS_OUTBOX_MAX_ATTEMPTS):
        row.status = OutboxStatus.DEAD
        logger.error(
            "outbox event %s (%s %s#%s) is dead after %d attempts: %s",
            row.event_id,
            row.detail_type,
            row.aggregate,
            row.sequence,
            row.attempts,
            row.last_error,
        )
    else:
        row.next_attempt_at = now + dt.timedelta(seconds=aws.backoff_seconds(row.attempts))
