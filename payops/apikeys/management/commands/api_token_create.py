"""Create an API token for a user and print it (the only time it is shown)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from payops.apikeys.services import TokenRefused, api_token_create
from payops.staff.levels import StaffLevel


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username of the token's owner")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--level", choices=StaffLevel.values, default=StaffLevel.VIEW)
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        days = options["expires_in_days"]
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            created = api_token_create(
                user=user, name=options["name"], level=options["level"], created_by=None, expires_at=expires_at
            )
        except TokenRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(created.plaintext)
