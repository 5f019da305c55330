"""List webhook inbox rows: ``manage.py webhook_inbox --status failed``."""

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from webhooks.models import InboxEvent, InboxStatus


class Command(BaseCommand):
    help = "List webhook inbox rows, newest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", choices=InboxStatus.values)
        parser.add_argument("--type", dest="event_type")
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args: object, status: str | None, event_type: str | None, limit: int, **options: object) -> None:
        rows = InboxEvent.objects.order_by("-received_at")
        if status:
            rows = rows.filter(status=status)
        if event_type:
            rows = rows.filter(type=event_type)
        counts = dict(InboxEvent.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        self.stdout.write("  ".join(f"{name}: {counts.get(name, 0)}" for name in InboxStatus.values))
        for row in rows[:limit]:
            problem = row.last_error.splitlines()[0] if row.last_error else row.outcome
            self.stdout.write(
                f"{row.pk:>8}  {row.received_at:%Y-%m-%d %H:%M:%S}  {row.status:<10} {row.attempts:>2}x  "
                f"{row.provider:<12} {row.event_id:<32} {row.type:<34} {problem[:80]}"
            )
