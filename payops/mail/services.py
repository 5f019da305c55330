"""Mail: enqueue a row in the caller's transaction, send it once through SES from a worker.

Sending is claim, call, record:

1. claim: one conditional UPDATE moves the row ``pending -> sending`` (only one worker wins it);
2. call SES with the rendered message;
3. record ``sent`` with SES's message id, or ``pending`` with a backoff (throttling, SES or
   network trouble), or ``failed`` (``MessageRejected`` and other permanent errors).

A redelivered task finds the row ``sent`` or ``sending`` and does nothing, so no mail goes out
twice. If a worker dies between 1 and 3, nobody knows whether SES sent it; the sweep marks such a
row ``unconfirmed`` for a person instead of guessing (ADR 0006).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payops.after_commit import TaskHook, send_after_commit_robustly
from payops.aws import client as aws
from payops.aws.ses import OutgoingMail, SesError, send_mail
from payops.mail.models import Mail, MailStatus
from payops.mail.rendering import MailRenderError, render_mail

logger = logging.getLogger(__name__)

SENT, SKIPPED, RETRYING, FAILED, WAITING = "sent", "skipped", "retrying", "failed", "waiting"


# The task that sends one stored mail (MailConfig.ready() connects it).
send_mail_hook = TaskHook("send a stored mail")


def _kick_sender(idempotency_key: str) -> None:
    send_mail_hook.delay(idempotency_key)


def mail_enqueue(
    *,
    template: str,
    recipient: str,
    language: str,
    context: Mapping[str, Any],
    idempotency_key: str,
    reference: str = "",
) -> Mail:
    """Record a mail to send after commit. The same key again returns the first row unchanged."""
    mail, created = Mail.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "template": template,
            "recipient": recipient,
            "language": language,
            "context": dict(context),
            "reference": reference[:64],
        },
    )
    if created:
        send_after_commit_robustly(_kick_sender, idempotency_key)
    return mail


def mail_send(*, idempotency_key: str, now: dt.datetime | None = None) -> str:
    """Send one mail if it is due and nobody else has it; returns what happened."""
    if not aws.is_configured():
        return WAITING
    now = now or timezone.now()
    claimed = Mail.objects.filter(
        idempotency_key=idempotency_key, status=MailStatus.PENDING, next_attempt_at__lte=now
    ).update(status=MailStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return SKIPPED
    mail = Mail.objects.get(idempotency_key=idempotency_key)
    try:
        rendered = render_mail(template=mail.template, language=mail.language, context=mail.context)
    except MailRenderError as exc:
        _finish(mail, status=MailStatus.FAILED, error=str(exc))
        logger.error("mail %s not sent: %s", mail.idempotency_key, exc)
        return FAILED
    outgoing = OutgoingMail(
        sender=settings.PAYOPS_MAIL_FROM,
        recipient=mail.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        language=mail.language,
        headers={"X-Payops-Mail-Id": str(mail.pk)},
    )
    try:
        message_id = send_mail(outgoing, tags={"template": mail.template, "mail_id": str(mail.pk)})
    except SesError as exc:
        return _record_error(mail, exc, now=now)
    _finish(mail, status=MailStatus.SENT, ses_message_id=message_id, sent_at=timezone.now(), error="")
    return SENT


def _record_error(mail: Mail, exc: SesError, *, now: dt.datetime) -> str:
    error = f"attempt {mail.attempts}: {exc}"
    if exc.retryable and mail.attempts < settings.PAYOPS_MAIL_MAX_ATTEMPTS:
        retry_at = now + dt.timedelta(seconds=aws.backoff_seconds(mail.attempts))
        _finish(mail, status=MailStatus.PENDING, error=error, next_attempt_at=retry_at)
        logger.warning("mail %s will be retried: %s", mail.idempotency_key, exc)
        return RETRYING
    _finish(mail, status=MailStatus.FAILED, error=error)
    logger.error("mail %s failed: %s", mail.idempotency_key, exc)
    return FAILED


def _finish(mail: Mail, *, status: str, error: str, **fields: Any) -> None:
    # Only the claim holder writes the outcome: a row a person reset meanwhile is left alone.
    Mail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(status=status, last_error=error, **fields)


def mail_send_due(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The sweep: give up on sends whose worker died, then send what is due."""
    now = now or timezone.now()
    outcomes: dict[str, int] = {}
    lost = now - dt.timedelta(seconds=settings.PAYOPS_MAIL_SEND_LEASE_SECONDS)
    unconfirmed = Mail.objects.filter(status=MailStatus.SENDING, claimed_at__lt=lost).update(
        status=MailStatus.UNCONFIRMED,
        last_error="the worker stopped during the SES call; SES may have sent this mail. "
        "Check SES (or ask the shopper) before sending it again.",
    )
    if unconfirmed:
        outcomes["unconfirmed"] = unconfirmed
        logger.error("%d mails were being sent when their worker stopped; marked unconfirmed", unconfirmed)
    due = Mail.objects.filter(status=MailStatus.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at")
    for key in due.values_list("idempotency_key", flat=True)[:limit]:
        outcome = mail_send(idempotency_key=key, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == WAITING:
            break
    return outcomes


@transaction.atomic
def mail_retry(*, ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """A person sends failed or unconfirmed mails again (after checking SES for unconfirmed ones)."""
    now = now or timezone.now()
    keys = list(
        Mail.objects.select_for_update()
        .filter(pk__in=list(ids), status__in=[MailStatus.FAILED, MailStatus.UNCONFIRMED])
        .values_list("idempotency_key", flat=True)
    )
    Mail.objects.filter(idempotency_key__in=keys).update(
        status=MailStatus.PENDING, attempts=0, next_attempt_at=now, claimed_at=None
    )
    for key in keys:
        send_after_commit_robustly(_kick_sender, key)
    return len(keys)
