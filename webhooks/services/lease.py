"""The lease a worker holds on an inbox row while it processes it (ADR 0014).

A short lease lets the sweep take over the rows of a killed worker within seconds, but a long
handler (a slow Stripe call while preparing, a big order) must not lose its row half-way. So a
worker that holds a row renews the lease from a heartbeat thread while its handler runs, and the
sweep never takes a row whose lock is held: while the handler's transaction has the row locked,
that lock (held by a live database connection) is the proof of life, and the heartbeat leaves it
alone rather than queue behind it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import InboxEvent, InboxStatus

logger = logging.getLogger(__name__)


def lease_expiry(*, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def lease_renew(*, inbox_id: int, attempt: int) -> bool:
    """Extend the lease of a row this attempt still holds. False when the row is locked (its
    handler is running: nothing to do) or no longer ours (taken over, or finished)."""
    with transaction.atomic():
        row = (
            InboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=inbox_id, status=InboxStatus.PROCESSING, attempts=attempt)
            .only("pk")
            .first()
        )
        if row is None:
            return False
        InboxEvent.objects.filter(pk=inbox_id).update(lease_expires_at=lease_expiry(now=timezone.now()))
        return True


@contextmanager
def lease_heartbeat(*, inbox_id: int, attempt: int) -> Iterator[None]:
    """Renew the row's lease every third of its length until the block ends. A handler that
    finishes sooner costs a thread and no database connection."""
    interval = settings.WEBHOOK_LEASE_SECONDS / 3
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    lease_renew(inbox_id=inbox_id, attempt=attempt)
                except Exception:  # the database is away: the lease may run out, the sweep copes
                    logger.warning("could not renew the lease of inbox event %s", inbox_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"inbox-lease-{inbox_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)  # a renewal stuck on a dead database must not hold the worker
