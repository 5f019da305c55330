"""Run Celery beat's schedule in this process: the embedded profile's stand-in for beat.

With a broker (production), run ``celery -A payops beat`` instead; this command is for the
embedded default, where tasks run in process and there is no beat.
"""

import time

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in process (embedded profile)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every task once and exit")

    def handle(self, *args: object, once: bool = False, **options: object) -> None:
        # Task modules register themselves on import; a worker imports them at start, so must we.
        current_app.loader.import_default_modules()
        schedule = settings.CELERY_BEAT_SCHEDULE
        due = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if now >= due[name]:
                    result = current_app.tasks[entry["task"]].apply()
                    self.stdout.write(f"{name}: {result.result!r}")
                    due[name] = now + float(entry["schedule"])
            if once:
                return
            time.sleep(1)
