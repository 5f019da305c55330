"""Celery entry points of the outbox; the logic is in ``publisher.py`` and ``services.py``."""

from dataclasses import asdict
from typing import Any

from celery import shared_task

from payops.outbox.publisher import outbox_publish_due
from payops.outbox.services import outbox_purge_published


@shared_task(ignore_result=True)
def publish_outbox() -> dict[str, Any]:
    """Kicked after every commit that wrote outbox rows; publishes whatever is due."""
    return asdict(outbox_publish_due())


@shared_task(ignore_result=True)
def sweep_outbox() -> dict[str, Any]:
    """Periodic: rows whose kick was lost (crash, broker down) or whose retry is due; old rows go."""
    report = asdict(outbox_publish_due())
    report["purged"] = outbox_purge_published()
    return report
