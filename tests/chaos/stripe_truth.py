"""Stripe as the chaos suite sees it: a fake Stripe API (tests/fakes/stripe_api.py) that keeps
state, so it is the truth the suite checks payops against.

* One PaymentIntent per idempotency key, as Stripe keeps it: a retried create gets the same one.
* ``retrieve`` answers the intent as it is *now*, after what the suite made happen to it
  (funded, paid, refunded).
* A gate holds chosen answers back until the suite opens it, so a fault (a terminated
  database backend) lands at a chosen point inside a checkout: after its order committed.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.stripe_api import (
    FakeStripeServer,
    RecordedRequest,
    bank_transfer_next_action,
    konbini_next_action,
    payment_intent_json,
)
from tests.stripe_events import stripe_event

# How long a gated answer may be held before it goes out anyway: below the gateway's timeout.
GATE_LIMIT_SECONDS = 8.0


@dataclass
class Gate:
    """Holds the answer to one request until opened; ``arrived`` is set when the request came."""

    arrived: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    used: bool = False


@dataclass
class Refund:
    id: str
    amount: int


class StripeTruth:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, list[Refund]] = {}
        self._intent_by_key: dict[str, str] = {}
        self._creates_by_key: dict[str, int] = {}
        # Gates by the shopper's e-mail (payops's create request carries it): each holds the
        # first create request that matches.
        self.create_gates: dict[str, Gate] = {}
        self.server = FakeStripeServer()
        self.server.fake.responder = self.respond

    # --- the server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.fake.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        for gate in self.create_gates.values():
            gate.opened.set()
        self.server.stop()

    def respond(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        path = request.path
        if request.method == "POST" and path == "/v1/customers":
            return 200, {"id": f"cus_chaos_{abs(hash(request.params.get('email', '')))}", "object": "customer"}
        if request.method == "POST" and path == "/v1/payment_intents":
            self._hold(self.create_gates.get(request.params.get("receipt_email", "")))
            return 200, self._create_intent(request)
        if path.startswith("/v1/payment_intents/"):
            intent_id = path.split("/")[3]
            with self._lock:
                intent = self.intents.get(intent_id)
                if intent is None:
                    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
                if path.endswith("/cancel"):
                    intent.update(status="canceled", next_action=None)
                return 200, copy.deepcopy(intent)
        return 404, {"error": {"type": "invalid_request_error", "message": f"no fake for {path}"}}

    def _hold(self, gate: Gate | None) -> None:
        with self._lock:
            if gate is None or gate.used:
                return
            gate.used = True
        gate.arrived.set()
        gate.opened.wait(GATE_LIMIT_SECONDS)

    def _create_intent(self, request: RecordedRequest) -> dict[str, Any]:
        params, key = request.params, request.idempotency_key or ""
        with self._lock:
            self._creates_by_key[key] = self._creates_by_key.get(key, 0) + 1
            if key and key in self._intent_by_key:
                return copy.deepcopy(self.intents[self._intent_by_key[key]])
            intent_id = f"pi_chaos_{next(self._ids)}"
            amount = int(params["amount"])
            method_type = params.get("payment_method_types[0]", "card")
            if method_type == "konbini":
                status, action = "requires_action", konbini_next_action(int(time.time()) + 3 * 86400)
            elif method_type == "customer_balance":
                status, action = "requires_action", bank_transfer_next_action(amount)
            else:
                status, action = "requires_payment_method", None
            metadata = {k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")}
            intent = payment_intent_json(
                id=intent_id,
                amount=amount,
                currency=params["currency"],
                status=status,
                next_action=action,
                client_secret=f"{intent_id}_secret_chaos",
                payment_method_types=[method_type],
                metadata=metadata,
            )
            self.intents[intent_id] = intent
            self.refunds[intent_id] = []
            if key:
                self._intent_by_key[key] = intent_id
            return copy.deepcopy(intent)

    # --- what happens in Stripe -----------------------------------------------------------------

    def fund(self, intent_id: str, received: int) -> dict[str, Any]:
        """Money arrives (a bank transfer, partly or in full; a konbini voucher paid)."""
        with self._lock:
            intent = self.intents[intent_id]
            received = min(received, intent["amount"])
            intent["amount_received"] = received
            if received >= intent["amount"]:
                intent.update(status="succeeded", next_action=None)
            else:
                intent.update(next_action=bank_transfer_next_action(intent["amount"] - received))
            return copy.deepcopy(intent)

    def refund(self, intent_id: str, amount: int) -> Refund:
        with self._lock:
            refund = Refund(id=f"re_chaos_{next(self._ids)}", amount=amount)
            self.refunds[intent_id].append(refund)
            return refund

    def refunded(self, intent_id: str) -> int:
        with self._lock:
            return sum(refund.amount for refund in self.refunds[intent_id])

    def intent_ids(self) -> list[str]:
        with self._lock:
            return list(self.intents)

    def intent_now(self, intent_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.intents[intent_id])

    def creates_for(self, key: str) -> int:
        with self._lock:
            return self._creates_by_key.get(key, 0)


# --- events, as Stripe would send them ----------------------------------------------------------


def intent_event(type: str, snapshot: dict[str, Any], *, created: int) -> dict[str, Any]:
    return stripe_event(type, copy.deepcopy(snapshot), created=created)


def charge_refunded_event(
    intent: dict[str, Any], refunds: list[Refund], *, created: int, charge_id: str
) -> dict[str, Any]:
    """``charge.refunded`` carrying the charge with the refunds made so far."""
    charge = {
        "id": charge_id,
        "object": "charge",
        "payment_intent": intent["id"],
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": sum(refund.amount for refund in refunds),
        "currency": intent["currency"],
        "refunded": sum(refund.amount for refund in refunds) >= intent["amount"],
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": refund.id,
                    "object": "refund",
                    "amount": refund.amount,
                    "currency": intent["currency"],
                    "payment_intent": intent["id"],
                    "charge": charge_id,
                    "status": "succeeded",
                    "metadata": {},
                }
                for refund in refunds
            ],
        },
    }
    return stripe_event("charge.refunded", charge, created=created)
