"""The small load of the chaos suite: shoppers checking out with Idempotency-Keys (and retrying
as a frontend does), shoppers reading their order, and Stripe delivering webhooks (re-signed on
every delivery, again and again until acknowledged, as Stripe does). Every answer is written to
a ledger with the fault phase it happened in."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.stripe_events import sign

WEBHOOK_SECRET = "whsec_chaos_suite"
# Retries back off from this up to one second: a client in a hurry, within its deadline.
FIRST_BACKOFF_SECONDS = 0.1


@dataclass(frozen=True)
class Answer:
    phase: str
    path: str  # "checkout", "order-api", "order-page", "webhook"
    status: int | None  # None: no HTTP answer at all (connection refused or reset)
    detail: str = ""
    # When the request was sent and answered (time.monotonic()).
    started: float = 0.0
    ended: float = 0.0

    def in_flight_at(self, instant: float) -> bool:
        return self.started <= instant <= self.ended


@dataclass
class Ledger:
    phase: str = "start"
    answers: list[Answer] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, status: int | None, detail: str = "", *, started: float = 0.0) -> None:
        ended = time.monotonic()
        with self._lock:
            self.answers.append(Answer(self.phase, path, status, detail[:300], started or ended, ended))

    def slowest(self, *, paths: tuple[str, ...]) -> dict[str, float]:
        """The longest answer time per phase."""
        slowest: dict[str, float] = {}
        with self._lock:
            for a in self.answers:
                if a.path in paths:
                    slowest[a.phase] = max(slowest.get(a.phase, 0.0), a.ended - a.started)
        return slowest

    def count(self, *, phase: str | None = None, paths: tuple[str, ...] = ()) -> int:
        with self._lock:
            return sum(
                1 for a in self.answers if (phase is None or a.phase == phase) and (not paths or a.path in paths)
            )

    def statuses(self, *, paths: tuple[str, ...]) -> Counter[tuple[str, int | None]]:
        with self._lock:
            return Counter((a.phase, a.status) for a in self.answers if a.path in paths)

    def errors(
        self, *, paths: tuple[str, ...], phases: tuple[str, ...] | None = None, retry_after: bool = False
    ) -> list[Answer]:
        """Answers a shopper must never see: a 500 (or any 5xx without Retry-After), or none at
        all; with ``retry_after``, also a 5xx that says when to try again."""
        with self._lock:
            return [
                a
                for a in self.answers
                if a.path in paths
                and (phases is None or a.phase in phases)
                and (a.status is None or (a.status >= 500 and (retry_after or "retry-after" not in a.detail)))
            ]


SHOPPER_PATHS = ("checkout", "order-api", "order-page")


@dataclass
class Checkout:
    key: str
    email: str
    method: str
    order: dict[str, Any] | None = None  # the 201 answer's order
    payment: dict[str, Any] | None = None
    attempts: int = 0
    replayed: bool = False


class Shopper:
    def __init__(self, base_url: str, ledger: Ledger) -> None:
        self.base_url = base_url
        self.ledger = ledger
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def checkout(self, checkout: Checkout, *, sku: str, deadline_seconds: float = 30) -> Checkout:
        """POST the checkout, and again with the same key after any answer a retry may fix."""
        body = _checkout_body(checkout, sku)
        deadline = time.monotonic() + deadline_seconds
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            checkout.attempts += 1
            status, payload, _ = self._send(
                "checkout", "POST", "/api/v1/checkout/", json=body, headers={"Idempotency-Key": checkout.key}
            )
            if status == 201:
                checkout.order, checkout.payment = payload["order"], payload["payment"]
                return checkout
            if status is not None and status < 500 and status not in (409, 429):
                return checkout  # refused for a reason a retry does not change: recorded, given up
            if time.monotonic() > deadline:
                return checkout
            time.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    def replay(self, checkout: Checkout, *, sku: str) -> dict[str, Any] | None:
        """The same request once more (a double click): answered from the key's stored answer."""
        body = _checkout_body(checkout, sku)
        status, payload, detail = self._send(
            "checkout", "POST", "/api/v1/checkout/", json=body, headers={"Idempotency-Key": checkout.key}
        )
        checkout.replayed = "idempotent-replayed" in detail
        return payload if status == 201 else None

    def read_order(self, token: str, *, page: bool = False) -> int | None:
        if page:
            status, _, _ = self._send("order-page", "GET", f"/orders/{token}/", headers={"Accept-Language": "ja"})
        else:
            status, _, _ = self._send("order-api", "GET", f"/api/v1/orders/{token}/")
        return status

    def _send(self, path_kind: str, method: str, path: str, **kwargs: Any) -> tuple[int | None, Any, str]:
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base_url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.ledger.record(path_kind, None, f"{method} {path}: {type(exc).__name__}", started=started)
            self._local.session = requests.Session()
            return None, None, ""
        detail = f"{method} {path}"
        if "Retry-After" in response.headers:
            detail += " retry-after"
        if response.headers.get("Idempotent-Replayed"):
            detail += " idempotent-replayed"
        if response.status_code >= 500:
            detail += f" {response.text[:200]}"
        self.ledger.record(path_kind, response.status_code, detail, started=started)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return response.status_code, payload, detail


def _checkout_body(checkout: Checkout, sku: str) -> dict[str, Any]:
    return {
        "items": [{"sku": sku, "quantity": 1}],
        "email": checkout.email,
        "payment_method": checkout.method,
        "locale": "ja",
    }


class Reader(threading.Thread):
    """A shopper (or several) keeping an order page open: reads orders until stopped."""

    def __init__(self, shopper: Shopper, tokens: Callable[[], list[str]]) -> None:
        super().__init__(daemon=True, name="chaos-reader")
        self.shopper, self.tokens = shopper, tokens
        self.stopped = threading.Event()

    def run(self) -> None:
        turn = 0
        while not self.stopped.is_set():
            tokens = self.tokens()
            if tokens:
                self.shopper.read_order(tokens[turn % len(tokens)], page=turn % 3 == 2)
                turn += 1
            self.stopped.wait(0.05)  # pace: a few reads a second, not a flood

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=40)


class Stripe:
    """Delivers events to payops as Stripe does: signed at each delivery, retried until a 2xx."""

    def __init__(self, base_url: str, ledger: Ledger) -> None:
        self.base_url = base_url
        self.ledger = ledger
        self._local = threading.local()

    def deliver(self, event: dict[str, Any], *, deadline_seconds: float = 45) -> bool:
        body = json.dumps(event).encode()
        deadline = time.monotonic() + deadline_seconds
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, WEBHOOK_SECRET)}
            started = time.monotonic()
            try:
                if not hasattr(self._local, "session"):
                    self._local.session = requests.Session()
                response = self._local.session.post(
                    self.base_url + "/webhooks/stripe/", data=body, headers=headers, timeout=30
                )
                status = response.status_code
                detail = f"{event['id']} {event['type']}" + (
                    " retry-after" if "Retry-After" in response.headers else ""
                )
            except requests.RequestException as exc:
                status, detail = None, f"{event['id']}: {type(exc).__name__}"
                self._local.session = requests.Session()
            self.ledger.record("webhook", status, detail, started=started)
            if status is not None and 200 <= status < 300:
                with self.ledger._lock:
                    self.ledger.acknowledged.add(event["id"])
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(backoff)
            backoff = min(backoff * 2, 1.0)
