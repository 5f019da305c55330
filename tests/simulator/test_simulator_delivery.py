from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from django.test import Client

from payops.simulator import delivery
from payops.simulator.delivery import deliver_pending_events, sign_payload
from payops.simulator.models import SimEvent
from payops.stripe.gateway import StripeGateway
from tests.simulator.clients import simulator_gateway
from tests.simulator.conftest import WEBHOOK_SECRET, RecordingSend
from tests.simulator.helpers import api_post, create_card_intent, create_konbini_intent


def test_delivered_events_verify_with_the_configured_secret(
    gateway: StripeGateway, recording_send: RecordingSend
) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_visa", key="order-1-payment")

    result = deliver_pending_events(send=recording_send)

    assert (result.delivered, result.failed_attempts, result.next_attempt_in) == (2, 0, None)
    url, _, headers = recording_send.calls[0]
    assert url == "http://testserver/webhooks/stripe/"
    assert headers["Content-Type"].startswith("application/json")
    created, succeeded = recording_send.events()
    assert [created.type, succeeded.type] == ["payment_intent.created", "payment_intent.succeeded"]
    assert succeeded.id.startswith("evt_")
    assert succeeded.object == "event"
    assert succeeded.livemode is False
    assert succeeded.api_version == stripe.api_version
    assert succeeded.pending_webhooks == 1
    assert succeeded.request.idempotency_key == "order-1-payment"
    assert succeeded.request.id.startswith("req_")
    assert succeeded.data.object.id == intent.id
    assert succeeded.data.object.status == "succeeded"
    assert succeeded.data.object.amount_received == 1500
    assert SimEvent.objects.filter(delivered_at__isnull=False).count() == 2


def test_a_signature_from_another_secret_does_not_verify(gateway: StripeGateway, recording_send: RecordingSend) -> None:
    create_card_intent(gateway, payment_method="pm_card_visa")
    deliver_pending_events(send=recording_send)
    _, body, headers = recording_send.calls[0]

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_someone_else")


def test_sign_payload_matches_stripes_scheme() -> None:
    header = sign_payload(body=b'{"id": "evt_1"}', secret=WEBHOOK_SECRET, timestamp=1_700_000_000)

    assert header.startswith("t=1700000000,v1=")
    assert stripe.WebhookSignature.verify_header('{"id": "evt_1"}', header, WEBHOOK_SECRET, tolerance=None)


def test_delivery_is_in_creation_order_and_never_twice(gateway: StripeGateway, recording_send: RecordingSend) -> None:
    create_konbini_intent(gateway, key="order-1")
    create_card_intent(gateway, payment_method="pm_card_visa", key="order-2")

    deliver_pending_events(send=recording_send)
    deliver_pending_events(send=recording_send)

    assert recording_send.types() == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]


def test_a_failed_delivery_is_retried(gateway: StripeGateway) -> None:
    create_card_intent(gateway, payment_method="pm_card_visa")
    send = RecordingSend(statuses=[500, 200, 200])

    first = deliver_pending_events(send=send)

    assert (first.delivered, first.failed_attempts) == (1, 1)
    assert first.next_attempt_in == 0.0
    retrying = SimEvent.objects.get(type="payment_intent.created")
    assert (retrying.delivery_state, retrying.attempts, retrying.last_status) == ("retrying", 1, 500)

    second = deliver_pending_events(send=send)

    assert (second.delivered, second.failed_attempts) == (1, 0)
    retried = SimEvent.objects.get(type="payment_intent.created")
    assert (retried.delivery_state, retried.attempts, retried.last_status) == ("delivered", 2, 200)
    assert send.calls[0][1] == send.calls[2][1], "a retry sends the same body"
    assert send.types() == ["payment_intent.created", "payment_intent.succeeded", "payment_intent.created"]


def test_retries_wait_for_the_backoff(settings: Any, gateway: StripeGateway) -> None:
    settings.SIMULATOR_DELIVERY_RETRY_DELAYS = (30.0,)
    create_konbini_intent(gateway)
    send = RecordingSend(statuses=[ConnectionRefusedError("nobody home"), 200])

    result = deliver_pending_events(send=send)
    deliver_pending_events(send=send)

    assert result.next_attempt_in is not None and 25 < result.next_attempt_in <= 30
    event = SimEvent.objects.get(type="payment_intent.created")
    assert event.attempts == 1
    assert event.last_error == "ConnectionRefusedError: nobody home"
    assert len(send.calls) == 2, "the failed event is not sent again before its delay"


def test_delivery_gives_up_after_the_last_retry_and_can_be_sent_again(gateway: StripeGateway, client: Client) -> None:
    create_konbini_intent(gateway)
    SimEvent.objects.exclude(type="payment_intent.created").delete()
    send = RecordingSend(statuses=[503, 503, 503, 503])

    for _ in range(4):
        deliver_pending_events(send=send)

    event = SimEvent.objects.get()
    assert event.delivery_state == "failed"
    assert event.attempts == 4
    assert len(send.calls) == 4

    client.post(f"/simulator/events/{event.stripe_id}/redeliver/")
    deliver_pending_events(send=send)

    event.refresh_from_db()
    assert event.delivery_state == "delivered"


def test_manual_mode_schedules_nothing_after_commit(
    gateway: StripeGateway, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        create_konbini_intent(gateway)

    assert callbacks == []


def test_thread_mode_wakes_the_deliverer_after_commit(
    settings: Any,
    gateway: StripeGateway,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.SIMULATOR_DELIVERY = "thread"
    woken: list[bool] = []
    monkeypatch.setattr(delivery._delivery_thread, "wake", lambda: woken.append(True))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        create_konbini_intent(gateway)
    assert woken == [], "nothing is sent before the transaction commits"
    for callback in callbacks:
        callback()

    assert woken


class _WebhookReceiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]]
    got_two: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers["Stripe-Signature"]))
        if len(self.received) >= 2:
            self.got_two.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, type[_WebhookReceiver]]]:
    handler = type("Receiver", (_WebhookReceiver,), {"received": [], "got_two": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_background_thread_delivers_over_http_after_the_request_returns(
    settings: Any, webhook_receiver: tuple[str, type[_WebhookReceiver]]
) -> None:
    base_url, receiver = webhook_receiver
    settings.PAYOPS_BASE_URL = base_url
    settings.SIMULATOR_DELIVERY = "thread"
    client = Client()

    status, body, _ = api_post(
        client,
        "payment_intents",
        {"amount": "1500", "currency": "jpy", "payment_method": "pm_card_visa", "confirm": "true"},
    )

    assert status == 200
    assert receiver.got_two.wait(timeout=10), "the delivery thread did not send both events"
    events = [stripe.Webhook.construct_event(raw, signature, WEBHOOK_SECRET) for raw, signature in receiver.received]
    assert [event.type for event in events] == ["payment_intent.created", "payment_intent.succeeded"]
    assert events[1].data.object.id == body["id"]
    settings.SIMULATOR_DELIVERY = "manual"
    delivery._delivery_thread.wake()  # lets the thread see "manual" and stop


def test_event_can_be_fetched_from_the_api(gateway: StripeGateway, recording_send: RecordingSend) -> None:
    create_konbini_intent(gateway)
    event = SimEvent.objects.first()
    assert event is not None

    fetched = simulator_gateway().client.v1.events.retrieve(event.stripe_id)

    assert fetched.to_dict() == json.loads(event.body)
