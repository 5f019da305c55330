"""Replay webhook inbox rows: one, every failed one, or all received in a time range."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from webhooks.services.replay import inbox_replay_many, inbox_rows_to_replay


class Command(BaseCommand):
    help = "Process webhook inbox rows again (handlers are idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--id", type=int, dest="inbox_id", help="one inbox row")
        target.add_argument("--failed", action="store_true", help="every failed row")
        target.add_argument("--since", help="rows received at or after this ISO time (with --until)")
        parser.add_argument("--until", help="rows received before this ISO time")

    def handle(self, *args: object, **options: object) -> None:
        since = _parse_time(options.get("since"))
        until = _parse_time(options.get("until"))
        ids = inbox_rows_to_replay(
            inbox_id=options.get("inbox_id"),  # type: ignore[arg-type]
            failed=bool(options.get("failed")),
            since=since,
            until=until,
        )
        if not ids:
            self.stdout.write("nothing to replay")
            return

        def progress(done: int, total: int, inbox_id: int, status: str) -> None:
            self.stdout.write(f"[{done}/{total}] inbox {inbox_id}: {status}")

        summary = inbox_replay_many(inbox_ids=ids, progress=progress)
        self.stdout.write(", ".join(f"{status}: {count}" for status, count in sorted(summary.items())))


def _parse_time(value: object) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise CommandError(f"not an ISO date-time: {value}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
