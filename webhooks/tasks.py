import logging

from celery import current_app, shared_task

from webhooks.services.processing import inbox_due_for_processing, inbox_process

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def process_inbox_event(inbox_id: int) -> str:
    return _process(inbox_id)


@shared_task(acks_late=True)
def process_inbox_events(inbox_ids: list[int]) -> list[str]:
    """Several rows stored by one group commit; each is claimed and processed on its own, and
    one that cannot even be claimed (database trouble) leaves the others to go on."""
    statuses = []
    for inbox_id in inbox_ids:
        try:
            statuses.append(_process(inbox_id))
        except Exception:
            logger.exception("inbox event %s could not be processed; the sweep will try again", inbox_id)
            statuses.append("error")
    return statuses


def _process(inbox_id: int) -> str:
    result = inbox_process(inbox_id=inbox_id)
    # In the embedded profile tasks run inline: a countdown would not wait, so retries are
    # left to the sweep there. With a broker the retry is scheduled for its backoff time.
    if result.retry_in is not None and not current_app.conf.task_always_eager:
        process_inbox_event.apply_async(args=(inbox_id,), countdown=result.retry_in.total_seconds())
    return result.status


@shared_task
def sweep_inbox() -> int:
    due = inbox_due_for_processing()
    for inbox_id in due:
        process_inbox_event.delay(inbox_id)
    return len(due)
