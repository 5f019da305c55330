"""Celery entry points of mail; the logic is in ``services.py``."""

from celery import shared_task

from payops.mail.services import mail_send, mail_send_due


@shared_task(name="payops.mail.tasks.send_mail", ignore_result=True)
def send_mail_task(idempotency_key: str) -> str:
    """Kicked after the commit that enqueued the mail. Safe to deliver twice."""
    return mail_send(idempotency_key=idempotency_key)


@shared_task(ignore_result=True)
def sweep_mail() -> dict[str, int]:
    """Periodic: retries that are due, kicks that were lost, sends whose worker died."""
    return mail_send_due()
