"""Idempotency keys: one execution per key, its answer replayed to every retry.

``idempotency_claim`` either hands the caller a claim (run the request, then ``complete`` or
``release`` it), or the stored answer of an earlier run, or refuses: the key is in use by a
request still running (``KeyInUse``, 409) or was used for a different request
(``KeyReused``, 422).

The claim is a row inserted and committed before the request runs; the unique
(principal, key) constraint decides between concurrent requests, on PostgreSQL and SQLite
alike. Answers worth replaying are stored; 5xx and 429 answers release the key instead, since
a retry may succeed: it stays bound to the request's fingerprint, but the next retry runs (and
a checkout continues the order the key made, issue 13.2). A process that dies mid-request leaves its claim locked until
``locked_until`` (``PAYOPS_IDEMPOTENCY_LOCK_SECONDS``); the next retry after that runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payops.idempotency.models import IdempotencyRecord, IdempotencyState


class KeyInUse(Exception):
    """Another request with this key is running right now."""


class KeyReused(Exception):
    """The key was used before for a request with another method, path or body."""


@dataclass(frozen=True)
class Claim:
    record_id: int
    principal: str
    key: str

    @property
    def binding(self) -> str:
        """Names what this claim's request made (a checkout's order), for a retry to find it.

        Per record, not per key: once the key has expired, its next use is a new request."""
        return f"idempotency:{self.record_id}"

    @property
    def service_key(self) -> str:
        """A stable key for services that deduplicate themselves (refunds): same claim, same key."""
        return "api:" + hashlib.sha256(f"{self.principal}\n{self.key}".encode()).hexdigest()[:48]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]
    content_type: str


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(
    *, principal: str, key: str, fingerprint: str, method: str, path: str, now: dt.datetime | None = None
) -> Claim | StoredResponse:
    now = now or timezone.now()
    lock_until = now + dt.timedelta(seconds=settings.PAYOPS_IDEMPOTENCY_LOCK_SECONDS)
    expires_at = now + dt.timedelta(seconds=settings.PAYOPS_IDEMPOTENCY_TTL_SECONDS)
    for _ in range(3):  # a row that expires or is released meanwhile: look again
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    fingerprint=fingerprint,
                    method=method[:8],
                    path=path[:500],
                    locked_until=lock_until,
                    expires_at=expires_at,
                )
            return Claim(record_id=record.pk, principal=principal, key=key)
        except IntegrityError:
            pass
        outcome = _existing(principal=principal, key=key, fingerprint=fingerprint, now=now, lock_until=lock_until)
        if outcome is not None:
            return outcome
    raise KeyInUse(key)


@transaction.atomic
def _existing(
    *, principal: str, key: str, fingerprint: str, now: dt.datetime, lock_until: dt.datetime
) -> Claim | StoredResponse | None:
    record = IdempotencyRecord.objects.select_for_update().filter(principal=principal, key=key).first()
    if record is None:
        return None  # released between our insert and this read
    if record.expires_at <= now:
        record.delete()  # older than the replay window: the key is free again
        return None
    if record.fingerprint != fingerprint:
        raise KeyReused(key)
    if record.state == IdempotencyState.IN_PROGRESS:
        if record.locked_until > now:
            raise KeyInUse(key)
        # Its request died with its process; this retry takes the key over and runs.
        record.locked_until = lock_until
        record.save(update_fields=["locked_until"])
        return Claim(record_id=record.pk, principal=principal, key=key)
    return StoredResponse(
        status=record.response_status or 200,
        body=record.response_body,
        headers=dict(record.response_headers),
        content_type=record.response_content_type,
    )


def idempotency_binding_in_progress(binding: str, *, now: dt.datetime | None = None) -> bool:
    """Whether the request a ``Claim.binding`` names is running right now (its claim locked)."""
    prefix, _, record_id = binding.partition(":")
    if prefix != "idempotency" or not record_id.isdigit():
        return False
    return IdempotencyRecord.objects.filter(
        pk=int(record_id), state=IdempotencyState.IN_PROGRESS, locked_until__gt=now or timezone.now()
    ).exists()


def idempotency_complete(*, claim: Claim, response: StoredResponse) -> None:
    IdempotencyRecord.objects.filter(pk=claim.record_id, state=IdempotencyState.IN_PROGRESS).update(
        state=IdempotencyState.COMPLETED,
        response_status=response.status,
        response_body=response.body,
        response_headers=response.headers,
        response_content_type=response.content_type[:100],
    )


def idempotency_release(*, claim: Claim, now: dt.datetime | None = None) -> None:
    """No answer is stored, and the next retry may run at once; the key stays bound to this
    request (its fingerprint), so a different request with the key is still refused."""
    IdempotencyRecord.objects.filter(pk=claim.record_id, state=IdempotencyState.IN_PROGRESS).update(
        locked_until=now or timezone.now()
    )


def idempotency_purge_expired(*, now: dt.datetime | None = None, limit: int = 10_000) -> int:
    now = now or timezone.now()
    ids = list(IdempotencyRecord.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:limit])
    deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
    return deleted
