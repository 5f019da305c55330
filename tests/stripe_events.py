"""Stripe-shaped events, signed exactly as Stripe signs them, for posting to /webhooks/stripe/."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

_ids = itertools.count(1)


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def stripe_event(
    type: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "type": type,
        "api_version": "2026-10-28.endive",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
        **extra,
    }


def intent_object(
    intent_id: str, *, status: str, amount: int, order_id: int | None = None, **overrides: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": "jpy",
        "status": status,
        "client_secret": f"{intent_id}_secret_x",
        "next_action": None,
        "last_payment_error": None,
        "payment_method_types": ["konbini"],
        "metadata": {"order_id": str(order_id)} if order_id else {},
        "livemode": False,
    }
    obj.update(overrides)
    return obj


def post_event(client: Any, event: dict[str, Any], *, secret: str = "whsec_payops_simulator", **kwargs: Any) -> Any:
    body = json.dumps(event).encode()
    return client.post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, secret), **kwargs
    )


# Signature headers Stripe would never send for ``body``, each refused with 400 by both edges:
# (test id, header maker; None means no header at all).
BAD_SIGNATURES = {
    "missing": lambda body, secret: None,
    "garbled": lambda body, secret: "garbage",
    "malformed": lambda body, secret: "t=abc,v1=zzz",
    "wrong-secret": lambda body, secret: sign(body, "whsec_wrong"),
    "tampered-body": lambda body, secret: sign(body + b" ", secret),
    "too-old": lambda body, secret: sign(body, secret, timestamp=int(time.time()) - 301),
    "future": lambda body, secret: sign(body, secret, timestamp=int(time.time()) + 301),
}
