"""Run the embedded moto server in this process (started for you by ``aws_embedded_up``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from payops.aws.embedded import serve


class Command(BaseCommand):
    help = "Serve AWS (moto) on 127.0.0.1 and a free port until --watch-pid exits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--watch-pid", type=int, default=None, help="exit when this process is gone")

    def handle(self, *args: Any, **options: Any) -> None:
        serve(watch_pid=options["watch_pid"])
