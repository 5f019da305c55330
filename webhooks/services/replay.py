"""Replaying inbox rows on a person's request (command line now, the dashboard later)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from webhooks.models import InboxEvent, InboxStatus
from webhooks.services.processing import inbox_replay


def inbox_rows_to_replay(
    *,
    inbox_id: int | None = None,
    failed: bool = False,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[int]:
    rows = InboxEvent.objects.all()
    if inbox_id is not None:
        rows = rows.filter(pk=inbox_id)
    elif failed:
        rows = rows.filter(status=InboxStatus.FAILED)
    elif since is not None:
        rows = rows.filter(received_at__gte=since)
        if until is not None:
            rows = rows.filter(received_at__lt=until)
    else:
        return []
    return list(rows.order_by("received_at").values_list("pk", flat=True))


def inbox_replay_many(
    *, inbox_ids: list[int], progress: Callable[[int, int, int, str], None] | None = None
) -> dict[str, int]:
    summary: Counter[str] = Counter()
    for done, inbox_id in enumerate(inbox_ids, start=1):
        try:
            status = inbox_replay(inbox_id=inbox_id).status
        except ValueError as exc:  # being processed right now
            status = f"skipped ({exc})"
        summary[status] += 1
        if progress:
            progress(done, len(inbox_ids), inbox_id, status)
    return dict(summary)
