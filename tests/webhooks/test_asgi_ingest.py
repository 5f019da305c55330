"""POST /webhooks/stripe/ as the ASGI server answers it: in front of Django, with the inbox
writer of the database in use (group commit on PostgreSQL, the ORM on SQLite).

The Django view (tests/webhooks/test_stripe_endpoint.py) and this edge share the receive service;
these tests hold the edge to the same contract, hostile inputs included.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from orders.models import Order
from tests.factories import make_order, make_payment
from tests.stripe_events import BAD_SIGNATURES, intent_object, sign, stripe_event
from webhooks.asgi import StripeWebhookEndpoint, default_inbox_writer, with_stripe_webhook_endpoint
from webhooks.models import InboxEvent
from webhooks.services.inbox_writer import InboxWriter, OrmInboxWriter

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_payops_simulator"


@dataclass
class Request:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    chunks: int = 1  # the body arrives in this many messages


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def signed(event: dict, *, secret: str = SECRET) -> Request:
    body = json.dumps(event).encode()
    return Request(body, {"stripe-signature": sign(body, secret), "content-type": "application/json"})


async def asgi_request(app, request: Request) -> Response:
    headers = [(b"host", b"testserver")] + [(k.encode(), v.encode()) for k, v in request.headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": "/webhooks/stripe/",
        "raw_path": b"/webhooks/stripe/",
        "query_string": b"",
        "headers": headers,
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
    }
    size = max(1, -(-len(request.body) // request.chunks))
    parts = [request.body[i : i + size] for i in range(0, len(request.body), size)] or [b""]
    messages = [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)]
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # nothing more comes; the endpoint must not wait for it

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Response(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body)


def deliver(requests: Sequence[Request], writer: Callable[[], InboxWriter] = default_inbox_writer) -> list[Response]:
    """Send ``requests`` at once to a fresh endpoint, as a server's event loop would; the
    writer is closed (and any processing it handed over finished) before this returns."""

    async def run() -> list[Response]:
        endpoint = StripeWebhookEndpoint(writer())
        try:
            return list(await asyncio.gather(*(asgi_request(endpoint, r) for r in requests)))
        finally:
            await endpoint.aclose()

    return asyncio.run(run())


@pytest.fixture
def awaiting_order():
    order = make_order(status="awaiting_payment", email="private.person@example.com")
    make_payment(order, intent_id="pi_edge", method="konbini", status="requires_action")
    return order


def paid_event(order: Order, **extra) -> dict:
    intent = intent_object(
        "pi_edge", status="succeeded", amount=order.total_amount, receipt_email="private.person@example.com"
    )
    return stripe_event("payment_intent.succeeded", intent, **extra)


def test_a_verified_event_is_stored_acknowledged_and_then_processed(awaiting_order):
    event = paid_event(awaiting_order)

    [response] = deliver([signed(event)])

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"received": True, "duplicate": False, "status": "received"}
    row = InboxEvent.objects.get()
    assert (row.provider, row.event_id, row.type, row.livemode) == ("stripe", event["id"], event["type"], False)
    assert (row.api_version, row.event_created, row.payload) == (event["api_version"], event["created"], event)
    assert (row.status, row.attempts) == ("processed", 1)
    awaiting_order.refresh_from_db()
    assert awaiting_order.status == "paid"


def test_deliveries_of_one_event_at_the_same_moment_store_it_once(awaiting_order):
    event = paid_event(awaiting_order)

    responses = deliver([signed(event) for _ in range(5)])

    assert [r.status for r in responses] == [200] * 5
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True, True]
    assert InboxEvent.objects.count() == 1
    assert awaiting_order.events.filter(type="order.paid").count() == 1


def test_a_redelivery_later_is_acknowledged_as_a_duplicate_with_the_stored_status(awaiting_order):
    event = paid_event(awaiting_order)
    deliver([signed(event)])

    [again] = deliver([signed(event)])

    assert again.status == 200
    assert again.json() == {"received": True, "duplicate": True, "status": "processed"}
    assert InboxEvent.objects.get().attempts == 1


@pytest.mark.parametrize("make_header", list(BAD_SIGNATURES.values()), ids=list(BAD_SIGNATURES))
def test_bad_signatures_are_400_store_nothing_and_log_no_personal_data(awaiting_order, caplog, make_header):
    body = json.dumps(paid_event(awaiting_order)).encode()
    header = make_header(body, SECRET)
    request = Request(body, {"stripe-signature": header} if header is not None else {})

    with caplog.at_level(logging.INFO):
        [response] = deliver([request])

    assert response.status == 400
    assert "error" in response.json()
    assert not InboxEvent.objects.exists()
    assert "webhook refused" in caplog.text and "203.0.113.9" in caplog.text
    assert "private.person@example.com" not in caplog.text


def event_body(created: str = "1", obj: str = "{}", extra: str = "") -> bytes:
    """An event's JSON as text, for what json.dumps would never write."""
    head = '{"object": "event", "id": "evt_1", "type": "x", '
    return f'{head}"created": {created}, {extra}"data": {{"object": {obj}}}}}'.encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json at all", "not JSON"),
        (b"\xff\xfe{}", "signature"),  # the library signs text: bytes that are not UTF-8 never verify
        (b"[1,2,3]", "not a Stripe event"),
        (event_body(created="NaN"), "not JSON"),
        (event_body(obj='{"a": "\\u0000"}'), "u0000"),
        (event_body(obj='{"a": "\\ud800"}'), "surrogate"),
        (event_body(created="99999999999999999999"), "created"),
        (event_body(extra='"api_version": 7, '), "api_version"),
    ],
    ids=["text", "not-utf8", "array", "nan", "nul", "lone-surrogate", "created-overflow", "api-version"],
)
def test_bodies_that_cannot_be_stored_faithfully_are_400(body, message):
    [response] = deliver([Request(body, {"stripe-signature": sign(body, SECRET)})])

    assert response.status == 400
    assert message in response.json()["error"]
    assert not InboxEvent.objects.exists()


def test_an_escaped_backslash_before_u0000_is_ordinary_text(awaiting_order):
    event = paid_event(awaiting_order)
    event["data"]["object"]["description"] = "C:\\u0000\\path"  # a backslash, then the letters u0000

    [response] = deliver([signed(event)])

    assert response.status == 200
    assert InboxEvent.objects.get().payload["data"]["object"]["description"] == "C:\\u0000\\path"


@pytest.mark.parametrize("chunks", [1, 4], ids=["declared-length", "streamed"])
def test_a_body_over_the_limit_is_refused_before_it_is_read_in_full(settings, chunks):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    event = stripe_event("payment_intent.succeeded", {"id": "pi_big", "filler": "x" * 2000})
    request = signed(event)
    request.chunks = chunks
    if chunks == 1:
        request.headers["content-length"] = str(len(request.body))

    [response] = deliver([request])

    assert response.status == 400
    assert "larger than 1000 bytes" in response.json()["error"]
    assert not InboxEvent.objects.exists()


def test_other_methods_are_405_with_allow():
    [response] = deliver([Request(b"", method="GET")])

    assert response.status == 405
    assert response.headers["allow"] == "POST"


def test_a_host_outside_allowed_hosts_is_refused(settings, awaiting_order):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    [response] = deliver([signed(paid_event(awaiting_order))])

    assert response.status == 400
    assert not InboxEvent.objects.exists()


def test_a_livemode_event_on_a_test_install_is_stored_as_ignored_and_not_processed(awaiting_order):
    [response] = deliver([signed(paid_event(awaiting_order, livemode=True))])

    assert response.json() == {"received": True, "duplicate": False, "status": "ignored"}
    row = InboxEvent.objects.get()
    assert (row.status, row.attempts, row.outcome) == ("ignored", 0, "live-mode event on a test-mode install")
    awaiting_order.refresh_from_db()
    assert awaiting_order.status == "awaiting_payment"


def test_any_configured_secret_verifies_during_a_rotation(settings, awaiting_order):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_old", "whsec_new"]

    [response] = deliver([signed(paid_event(awaiting_order), secret="whsec_new")])

    assert response.status == 200


def test_secrets_that_must_be_read_from_the_store_are_read_off_the_event_loop(monkeypatch, awaiting_order):
    import threading

    from webhooks import asgi
    from webhooks.services import receive

    monkeypatch.setattr(asgi, "cached_secrets", lambda: None)  # as after the TTL ran out
    threads = []
    original = receive._stripe_webhook_secrets
    monkeypatch.setattr(
        receive,
        "_stripe_webhook_secrets",
        lambda **kw: threads.append(threading.current_thread()) or original(**kw),
    )

    [response] = deliver([signed(paid_event(awaiting_order))])

    assert response.status == 200
    assert threads and threading.main_thread() not in threads


def test_a_storage_failure_is_503_with_retry_after_so_the_sender_delivers_again(monkeypatch, awaiting_order):
    from django.db import OperationalError

    from webhooks.services import inbox_writer

    def database_down(record):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(inbox_writer, "store_inbox_record", database_down)

    [response] = deliver([signed(paid_event(awaiting_order))], writer=OrmInboxWriter)

    assert response.status == 503
    assert response.headers["retry-after"] == "5"
    assert "deliver again" in response.json()["error"]


def test_the_asgi_application_sends_only_the_webhook_path_to_the_endpoint():
    from payops.asgi import http_application

    seen: list[str] = []

    async def django_app(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = with_stripe_webhook_endpoint(django_app, path="/webhooks/stripe/")
    [response] = asyncio.run(_both(app))

    assert seen == ["/livez"]
    assert response.status == 405  # the endpoint's own answer to a GET
    assert isinstance(http_application.endpoint, StripeWebhookEndpoint)
    assert reverse("stripe-webhook") == "/webhooks/stripe/"


async def _both(app) -> list[Response]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    await app({"type": "http", "method": "GET", "path": "/livez", "headers": []}, receive, send)
    return [await asgi_request(app, Request(b"", method="GET"))]


def test_a_graceful_shutdown_closes_the_writer_so_stored_rows_are_handed_over():
    from webhooks.asgi import lifespan_application

    class Writer:
        closed = False

        async def store(self, record):
            raise AssertionError("not called")

        async def aclose(self):
            Writer.closed = True

    endpoint = StripeWebhookEndpoint(Writer())
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(lifespan_application(endpoint)({"type": "lifespan"}, receive, send))

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert Writer.closed
