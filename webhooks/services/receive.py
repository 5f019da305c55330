"""Receiving webhooks: verify, store durably, acknowledge. Nothing slow happens here.

A delivery is verified over its raw body, stored as an ``InboxEvent`` keyed by the provider's
event id (a unique constraint makes redeliveries no-ops, also when two arrive at once), and
handed to a worker after the transaction commits. If the broker is down the row waits for the
sweep; the sender still gets its 2xx because the event is safe in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from payops.after_commit import TaskHook
from payops.aws.secrets import outside_payment_secret, stripe_webhook_secrets
from payops.json_depth import MAX_JSON_DEPTH, json_too_deep
from payops.stripe.gateway import stripe_livemode
from webhooks.models import InboxEvent, InboxStatus

logger = logging.getLogger(__name__)

STRIPE = "stripe"


class WebhookRejected(Exception):
    """A delivery we refuse (400): it is not stored, and the reason is safe to log."""


class SignatureRejected(WebhookRejected):
    """The signature does not verify with the secrets tried (they may have been rotated since)."""


@dataclass(frozen=True)
class Receipt:
    inbox_id: int | None
    duplicate: bool
    status: str

    def acknowledgement(self) -> dict[str, Any]:
        """The 200 answer's body, the same from every edge."""
        return {"received": True, "duplicate": self.duplicate, "status": self.status}


@dataclass(frozen=True)
class InboxRecord:
    """A verified delivery, ready to be stored: the columns of its inbox row."""

    provider: str
    event_id: str
    type: str
    api_version: str
    livemode: bool
    event_created: int | None
    payload: dict[str, Any]
    ignored_reason: str = ""
    # The body as it arrived: the batch writer stores it as the payload without encoding the
    # parsed event again (the same JSON value).
    raw_payload: str | None = field(default=None, repr=False, compare=False)


def stripe_webhook_receive(*, body: bytes, signature_header: str) -> Receipt:
    return store_inbox_record(stripe_inbox_record(body=body, signature_header=signature_header))


def stripe_inbox_record(
    *, body: bytes, signature_header: str, secrets: Sequence[str] | None = None, livemode: bool | None = None
) -> InboxRecord:
    """Check a Stripe delivery (size, signature, shape, mode) and say what to store; no I/O but
    reading the secrets, and none at all when ``secrets`` and the install's ``livemode`` are given.

    Raises ``WebhookRejected`` (answer 400, store nothing) with a reason that is safe to log.
    """
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        raise WebhookRejected(f"body larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes")
    verify_stripe_signature(body=body, header=signature_header, secrets=secrets)
    event = _parse_stripe_event(body)
    ignored_reason = ""
    if livemode is None:
        livemode = stripe_livemode()
    if bool(event.get("livemode")) != livemode:
        mode = "live" if livemode else "test"
        ignored_reason = f"{'live' if event.get('livemode') else 'test'}-mode event on a {mode}-mode install"
    return InboxRecord(
        provider=STRIPE,
        event_id=event["id"],
        type=event["type"],
        api_version=str(event.get("api_version") or ""),
        livemode=bool(event.get("livemode")),
        event_created=int(event["created"]),
        payload=event,
        ignored_reason=ignored_reason,
        raw_payload=_utf8_or_none(body),
    )


def _utf8_or_none(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:  # JSON in UTF-16/32 parses too; the writer encodes it again
        return None


def verify_stripe_signature(*, body: bytes, header: str, secrets: Sequence[str] | None = None) -> None:
    """Accept a signature made with any currently valid secret (Stripe rotates with overlap).

    With ``secrets`` given only those are tried; otherwise the configured ones, read again from
    the store once if none verifies.
    """
    if not header:
        raise WebhookRejected("missing Stripe-Signature header")
    _reject_future_timestamp(header)
    payload = body.decode("utf-8", errors="replace")
    candidates = [secrets] if secrets is not None else (_stripe_webhook_secrets(refresh=r) for r in (False, True))
    for group in candidates:
        for secret in group:
            try:
                stripe.WebhookSignature.verify_header(
                    payload, header, secret, settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
                )
                return
            except stripe.SignatureVerificationError:
                continue
    raise SignatureRejected("signature does not verify (wrong secret, altered body, or timestamp outside tolerance)")


def _reject_future_timestamp(header: str) -> None:
    # The stripe library refuses old timestamps only; one far ahead is as suspicious (or a
    # badly skewed clock) and would stretch the replay window, so refuse it too.
    timestamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    if (
        timestamps
        and timestamps[0].isdigit()
        and int(timestamps[0]) - time.time() > settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    ):
        raise WebhookRejected("timestamp outside tolerance (in the future)")


def _stripe_webhook_secrets(*, refresh: bool) -> list[str]:
    return stripe_webhook_secrets(refresh=refresh)


def _parse_stripe_event(body: bytes) -> dict[str, Any]:
    event = parse_json_body(body)
    if not isinstance(event, dict) or event.get("object") != "event":
        raise WebhookRejected("body is not a Stripe event object")
    created, api_version = event.get("created"), event.get("api_version")
    problems = [
        name
        for name, ok in (
            ("id", isinstance(event.get("id"), str) and event["id"].startswith("evt_") and len(event["id"]) <= 255),
            ("type", isinstance(event.get("type"), str) and 0 < len(event["type"]) <= 128),
            ("created", type(created) is int and 0 <= created < 2**63),
            ("api_version", api_version is None or (isinstance(api_version, str) and len(api_version) <= 64)),
            ("data.object", isinstance(event.get("data"), dict) and isinstance(event["data"].get("object"), dict)),
        )
        if not ok
    ]
    if problems:
        raise WebhookRejected(f"event is missing or has invalid: {', '.join(problems)}")
    return event


def parse_json_body(body: bytes) -> Any:
    """The JSON value of a body, refusing what PostgreSQL's jsonb cannot store: a payload we
    acknowledged but could not keep would be lost."""
    if json_too_deep(body):
        raise WebhookRejected(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = _JSON.decode(body.decode(json.detect_encoding(body)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("body is not JSON") from exc
    # jsonb refuses NUL and unpaired surrogates, which json.loads accepts; scan the parsed
    # strings only when the body has such an escape at all.
    if _SUSPECT_ESCAPE.search(body) and _holds_unstorable_text(value):
        raise WebhookRejected("body contains a \\u0000 or an unpaired surrogate, which cannot be stored")
    return value


_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _holds_unstorable_text(value: Any) -> bool:
    if isinstance(value, str):
        return any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_holds_unstorable_text(k) or _holds_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable_text(v) for v in value)
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


# --- payments confirmed outside Stripe -------------------------------------------------------


def outside_payment_receive(*, source: str, body: bytes, timestamp: str, signature: str) -> Receipt:
    secret = outside_payment_secret(source)
    if not secret:
        raise UnknownSource(source)
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        raise WebhookRejected(f"body larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes")
    try:
        verify_outside_signature(secret=secret, body=body, timestamp=timestamp, signature=signature)
    except WebhookRejected:
        # The source may have rotated its secret: read the store once more (rate-limited there).
        fresh = outside_payment_secret(source, refresh=True)
        if not fresh or fresh == secret:
            raise
        verify_outside_signature(secret=fresh, body=body, timestamp=timestamp, signature=signature)
    payment = _parse_outside_payment(body)
    return store_inbox_event(
        provider=f"outside:{source}",
        event_id=payment["id"],
        type="payment.received",
        api_version="",
        livemode=stripe_livemode(),
        event_created=int(timestamp),
        payload=payment,
    )


class UnknownSource(WebhookRejected):
    pass


def outside_signature(*, secret: str, body: bytes, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify_outside_signature(*, secret: str, body: bytes, timestamp: str, signature: str) -> None:
    if not timestamp.isdigit() or not signature:
        raise WebhookRejected("missing or malformed Payops-Timestamp / Payops-Signature header")
    if abs(time.time() - int(timestamp)) > settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("timestamp outside tolerance")
    expected = outside_signature(secret=secret, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRejected("signature does not verify")


def _parse_outside_payment(body: bytes) -> dict[str, Any]:
    payment = parse_json_body(body)
    if not isinstance(payment, dict):
        raise WebhookRejected("body must be a JSON object")
    expected = {"id": str, "order_number": str, "amount": int, "currency": str}
    problems = [
        name
        for name, kind in expected.items()
        if not isinstance(payment.get(name), kind) or isinstance(payment.get(name), bool) or payment.get(name) == ""
    ]
    if problems:
        raise WebhookRejected(f"missing or invalid fields: {', '.join(problems)}")
    if len(payment["id"]) > 255:
        raise WebhookRejected("id is longer than 255 characters")
    return {key: payment[key] for key in (*expected, "paid_at", "note") if key in payment}


# --- storage -------------------------------------------------------------------------------


def store_inbox_event(
    *,
    provider: str,
    event_id: str,
    type: str,
    api_version: str,
    livemode: bool,
    event_created: int | None,
    payload: dict[str, Any],
    ignored_reason: str = "",
) -> Receipt:
    try:
        with transaction.atomic():
            row = InboxEvent.objects.create(
                provider=provider,
                event_id=event_id,
                type=type,
                api_version=api_version,
                livemode=livemode,
                event_created=event_created,
                payload=payload,
                status=InboxStatus.IGNORED if ignored_reason else InboxStatus.RECEIVED,
                outcome=ignored_reason,
            )
            if not ignored_reason:
                transaction.on_commit(lambda: enqueue_processing(row.pk), robust=True)
    except IntegrityError:
        existing = InboxEvent.objects.filter(provider=provider, event_id=event_id).values_list("pk", "status").first()
        if existing is None:  # not a duplicate after all: let the caller see a real error
            raise
        return Receipt(inbox_id=existing[0], duplicate=True, status=existing[1])
    return Receipt(inbox_id=row.pk, duplicate=False, status=row.status)


def store_inbox_record(record: InboxRecord) -> Receipt:
    columns = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "raw_payload"}
    return store_inbox_event(**columns)


# The tasks that process one stored row, and several (WebhooksConfig.ready() connects them).
process_hook = TaskHook("process an inbox row")
process_many_hook = TaskHook("process inbox rows")


def enqueue_processing(inbox_id: int) -> None:
    try:
        # retry=False: with the broker down, fail at once; the sweep will pick the row up.
        process_hook.apply_async(args=(inbox_id,), retry=False)
    except Exception:
        logger.warning("could not enqueue inbox event %s; the sweep will process it", inbox_id, exc_info=True)


# Rows per task when the batch writer hands many at once: small enough that several workers
# share a burst, large enough that a burst is not one message per event (publishing a Celery
# message costs about as much CPU as receiving a webhook).
ENQUEUE_CHUNK = 100


def enqueue_processing_batch(inbox_ids: Sequence[int]) -> None:
    for start in range(0, len(inbox_ids), ENQUEUE_CHUNK):
        chunk = list(inbox_ids[start : start + ENQUEUE_CHUNK])
        try:
            process_many_hook.apply_async(args=(chunk,), retry=False)
        except Exception:
            logger.warning("could not enqueue inbox events %s; the sweep will process them", chunk, exc_info=True)
