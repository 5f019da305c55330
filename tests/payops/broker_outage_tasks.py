"""A task for tests/payops/test_broker_outage.py, imported by the worker it starts (``-I``)."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True)
def sleep_then_touch(path: str, seconds: float) -> None:
    time.sleep(seconds)
    Path(path).write_text("done")
