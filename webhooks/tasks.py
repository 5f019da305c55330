from celery import current_app, shared_task

from webhooks.services.processing import inbox_due_for_processing, inbox_process


@shared_task(acks_late=True)
def process_inbox_event(inbox_id: int) -> str:
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
