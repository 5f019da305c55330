"""Stripe's idempotent requests: a retried POST replays the first response instead of acting twice.

payops derives idempotency keys from its orders, so a retry after a timeout must never create
a second PaymentIntent or refund. As on Stripe: the first response is stored with the key (for
successes and for errors raised after work was done, such as a declined card; not for requests
refused by validation), replayed for 24 hours, and the same key with other parameters is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from payops.simulator.errors import StripeApiError
from payops.simulator.models import SimIdempotencyKey

KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    request_id: str


def request_fingerprint(*, method: str, path: str, params: dict[str, Any]) -> str:
    canonical = json.dumps({"method": method, "path": path, "params": params}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_stored_response(*, key: str, fingerprint: str) -> StoredResponse | None:
    record = SimIdempotencyKey.objects.filter(key=key).first()
    if record is None:
        return None
    if record.created < timezone.now() - KEY_LIFETIME:
        record.delete()
        return None
    if record.fingerprint != fingerprint:
        raise StripeApiError(
            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request.",
            type="idempotency_error",
        )
    return StoredResponse(status=record.status_code, body=record.body, request_id=record.request_id)


def store_response(*, key: str, fingerprint: str, request_id: str, status: int, body: str) -> bool:
    """Keep the response for replay; False when a concurrent request with the key got there first."""
    try:
        with transaction.atomic():
            SimIdempotencyKey.objects.create(
                key=key, fingerprint=fingerprint, request_id=request_id, status_code=status, body=body
            )
    except IntegrityError:
        return False
    return True


def key_in_use(key: str) -> StripeApiError:
    # 409 makes the stripe library retry, and the retry then finds the stored response.
    return StripeApiError(
        f"There is currently another in-progress request using this Stripe-Idempotency-Key ({key}); "
        "please try again later.",
        status=409,
        code="idempotency_key_in_use",
    )
