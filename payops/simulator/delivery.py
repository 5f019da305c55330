"""Delivering the simulator's events to payops's webhook endpoint, signed as Stripe signs them.

Delivery is asynchronous, like Stripe's: an API request (or a click on the simulator's
dashboard) only writes the event row; after its transaction commits, one background daemon
thread per process is woken and POSTs every due event. A request handler never waits for
its own server, which would deadlock a single-worker demo server.

``deliver_pending_events`` is one synchronous pass and takes the HTTP sender as an argument, so
tests set ``SIMULATOR_DELIVERY = "manual"`` (no thread) and call it with a recording sender.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.utils import timezone

from payops.simulator.models import SimEvent

logger = logging.getLogger(__name__)

# send(url, body, headers) -> HTTP status code; raises on a connection failure.
Send = Callable[[str, bytes, Mapping[str, str]], int]

# Waits before the 2nd, 3rd, … attempt. Stripe retries for days; the demo wants an answer soon.
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 15.0, 60.0)
# A claimed event is left alone by other deliverers this long (well above the HTTP timeout).
CLAIM_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class DeliveryPass:
    delivered: int
    failed_attempts: int
    # Seconds until the earliest scheduled retry is due; None when nothing waits.
    next_attempt_in: float | None


def delivery_mode() -> str:
    return getattr(settings, "SIMULATOR_DELIVERY", "thread")


def retry_delays() -> tuple[float, ...]:
    return tuple(getattr(settings, "SIMULATOR_DELIVERY_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def webhook_url() -> str:
    return f"{settings.PAYOPS_BASE_URL}/webhooks/stripe/"


def signing_secret() -> str:
    secrets = settings.STRIPE_WEBHOOK_SECRETS
    if not secrets:
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRETS is empty: the payment simulator has nothing to sign with")
    return secrets[0]


def sign_payload(*, body: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header: HMAC-SHA256 over ``"{t}.{body}"``, as Stripe computes it."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def send_over_http(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook URL must be http(s), got {url!r}")
    # No proxies: the target is payops itself, and a proxy from the environment would not reach it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 - checked above
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver_pending_events(*, send: Send | None = None) -> DeliveryPass:
    """Send every due, undelivered event once, oldest first, and record the outcome.

    A failed event is retried later (``SIMULATOR_DELIVERY_RETRY_DELAYS``) without holding back
    the events after it — Stripe does not deliver in order either, and payops must cope.
    """
    send = send or send_over_http
    url, secret = webhook_url(), signing_secret()
    delivered = failed = 0
    due = SimEvent.objects.filter(delivered_at=None, failed_at=None, next_attempt_at__lte=timezone.now())
    for pk in list(due.order_by("pk").values_list("pk", flat=True)):
        event = _claim(pk)
        if event is None:
            continue
        status, error = _attempt(send=send, url=url, secret=secret, body=event.body.encode())
        if _record_attempt(event, status=status, error=error):
            delivered += 1
        else:
            failed += 1
    return DeliveryPass(delivered=delivered, failed_attempts=failed, next_attempt_in=_seconds_until_next_attempt())


def _claim(pk: int) -> SimEvent | None:
    """Take one due event so that a second deliverer (another process) skips it."""
    now = timezone.now()
    claimed = SimEvent.objects.filter(pk=pk, delivered_at=None, failed_at=None, next_attempt_at__lte=now).update(
        next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
    )
    return SimEvent.objects.get(pk=pk) if claimed else None


def _attempt(*, send: Send, url: str, secret: str, body: bytes) -> tuple[int | None, str]:
    # Signed at send time, as Stripe does, so a retry is inside the receiver's tolerance window.
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign_payload(body=body, secret=secret, timestamp=int(time.time())),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    try:
        return send(url, body, headers), ""
    except Exception as exc:  # any failure to send is a failed attempt, retried later
        return None, f"{type(exc).__name__}: {exc}"


def _record_attempt(event: SimEvent, *, status: int | None, error: str) -> bool:
    now = timezone.now()
    event.attempts += 1
    event.last_status = status
    ok = status is not None and 200 <= status < 300
    if ok:
        event.delivered_at = now
        event.last_error = ""
    else:
        event.last_error = error or f"HTTP {status}"
        delays = retry_delays()
        if event.attempts > len(delays):
            event.failed_at = now
            logger.warning("simulator gave up delivering %s after %d attempts", event.stripe_id, event.attempts)
        else:
            event.next_attempt_at = now + timedelta(seconds=delays[event.attempts - 1])
    event.save(update_fields=["attempts", "last_status", "last_error", "delivered_at", "failed_at", "next_attempt_at"])
    return ok


def _seconds_until_next_attempt() -> float | None:
    upcoming = (
        SimEvent.objects.filter(delivered_at=None, failed_at=None)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max((upcoming - timezone.now()).total_seconds(), 0.0)


class _DeliveryThread:
    """One daemon thread per process, woken after each commit that wrote events."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="payops-simulator-webhooks", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        timeout: float | None = None
        while True:
            self._wake.wait(timeout)
            if delivery_mode() == "manual":
                # Switched off (tests flip the setting): leave the field to deliver_pending_events callers.
                return
            # Cleared before the pass: an event committed during the pass wakes the next one.
            self._wake.clear()
            try:
                timeout = deliver_pending_events().next_attempt_in
            except Exception:
                logger.exception("simulator webhook delivery pass failed")
                timeout = 5.0
            finally:
                # This thread's connections would otherwise stay open (and lock SQLite) while idle.
                connections.close_all()


_delivery_thread = _DeliveryThread()


def wake_delivery() -> None:
    """Ask the background deliverer for a pass now (no-op in ``manual`` mode)."""
    if delivery_mode() == "manual":
        return
    _delivery_thread.wake()


def schedule_delivery() -> None:
    """Wake the deliverer once the current transaction has committed the new events."""
    if delivery_mode() == "manual":
        return
    transaction.on_commit(wake_delivery)
