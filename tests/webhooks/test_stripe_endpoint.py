import json
import logging

import pytest

from orders.models import Order
from tests.factories import make_order, make_payment
from tests.stripe_events import BAD_SIGNATURES, intent_object, post_event, sign, stripe_event
from webhooks.models import InboxEvent
from webhooks.services import receive

pytestmark = pytest.mark.django_db

SECRET = "whsec_payops_simulator"


@pytest.fixture
def paid_event():
    order = make_order(status="awaiting_payment", email="private.person@example.com")
    make_payment(order, intent_id="pi_ep", method="konbini", status="requires_action")
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(
            "pi_ep", status="succeeded", amount=order.total_amount, receipt_email="private.person@example.com"
        ),
    )
    return order, event


def test_valid_event_is_stored_acknowledged_and_processed_after_commit(
    client, paid_event, django_capture_on_commit_callbacks
):
    order, event = paid_event
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_event(client, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False, "status": "received"}
    row = InboxEvent.objects.get()
    # nothing was processed inside the request: the work waits for the commit
    assert row.status == "received"
    assert len(callbacks) == 1
    callbacks[0]()
    row.refresh_from_db()
    assert (row.provider, row.event_id, row.type) == ("stripe", event["id"], "payment_intent.succeeded")
    assert row.api_version == "2026-10-28.endive"
    assert row.event_created == event["created"]
    assert row.payload == event
    assert row.status == "processed"
    assert row.attempts == 1
    assert row.processed_at is not None
    order.refresh_from_db()
    assert order.status == "paid"


def test_duplicate_is_acknowledged_without_new_work(client, paid_event, django_capture_on_commit_callbacks):
    order, event = paid_event
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_event(client, event)
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert callbacks == []
    assert InboxEvent.objects.count() == 1
    assert order.events.filter(type="order.paid").count() == 1


@pytest.mark.parametrize("make_header", list(BAD_SIGNATURES.values()), ids=list(BAD_SIGNATURES))
def test_bad_signatures_are_400_and_store_nothing(client, paid_event, caplog, make_header):
    _, event = paid_event
    body = json.dumps(event).encode()
    header = make_header(body, SECRET)
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    with caplog.at_level(logging.INFO):
        response = client.post("/webhooks/stripe/", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert not InboxEvent.objects.exists()
    assert "private.person@example.com" not in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json at all", "not JSON"),
        (b"[1,2,3]", "not a Stripe event"),
        (json.dumps({"object": "charge", "id": "ch_1"}).encode(), "not a Stripe event"),
        (
            json.dumps({"object": "event", "id": "evt_1", "type": "x", "created": "yesterday", "data": {}}).encode(),
            "created",
        ),
        (
            json.dumps({"object": "event", "id": "nope", "type": "x", "created": 1, "data": {"object": {}}}).encode(),
            "id",
        ),
    ],
)
def test_malformed_bodies_are_400_and_store_nothing(client, body, message):
    response = client.post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, SECRET)
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not InboxEvent.objects.exists()


def test_body_over_the_limit_is_400(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    event = stripe_event("payment_intent.succeeded", {"id": "pi_big", "filler": "x" * 2000})
    response = post_event(client, event)
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]
    assert not InboxEvent.objects.exists()


def test_any_configured_secret_is_accepted_during_rotation(
    client, settings, paid_event, django_capture_on_commit_callbacks
):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_old", "whsec_new"]
    _, event = paid_event
    body = json.dumps(event).encode()
    # Stripe sends one v1 signature per active secret during a rotation.
    header = f"{sign(body, 'whsec_unknown')},v1={sign(body, 'whsec_new').split('v1=')[1]}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200
    assert InboxEvent.objects.get().status == "processed"


def test_livemode_event_on_a_test_install_is_stored_as_ignored(client, paid_event, django_capture_on_commit_callbacks):
    order, event = paid_event
    event["livemode"] = True
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    row = InboxEvent.objects.get()
    assert row.status == "ignored"
    assert row.outcome == "live-mode event on a test-mode install"
    order.refresh_from_db()
    assert order.status == "awaiting_payment"


def test_broker_down_still_acknowledges_and_the_sweep_processes_later(
    client, paid_event, monkeypatch, django_capture_on_commit_callbacks
):
    from webhooks.services.processing import inbox_due_for_processing
    from webhooks.tasks import process_inbox_event, sweep_inbox

    order, event = paid_event

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(process_inbox_event, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    row = InboxEvent.objects.get()
    assert row.status == "received"
    monkeypatch.undo()
    # the sweep leaves fresh rows alone for a moment, then takes them
    assert inbox_due_for_processing() == []
    InboxEvent.objects.filter(pk=row.pk).update(received_at=row.received_at.replace(year=2020))
    assert sweep_inbox.apply().result == 1
    row.refresh_from_db()
    assert row.status == "processed"
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_unknown_fields_and_a_newer_api_version_do_not_break_processing(
    client, paid_event, django_capture_on_commit_callbacks
):
    order, event = paid_event
    event["api_version"] = "2099-01-01.future"
    event["brand_new_top_level"] = {"x": 1}
    event["data"]["object"]["some_new_field"] = [1, 2, 3]
    event["data"]["previous_attributes"] = {"status": "requires_action"}
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    assert InboxEvent.objects.get().status == "processed"
    order.refresh_from_db()
    assert order.status == "paid"


def test_unhandled_types_are_stored_as_ignored(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    row = InboxEvent.objects.get()
    assert row.status == "ignored"
    assert "does not handle customer.created" in row.outcome


def test_store_is_safe_when_the_same_event_races(paid_event):
    _, event = paid_event
    first = receive.store_inbox_event(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        api_version="",
        livemode=False,
        event_created=event["created"],
        payload=event,
    )
    second = receive.store_inbox_event(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        api_version="",
        livemode=False,
        event_created=event["created"],
        payload=event,
    )
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.inbox_id == second.inbox_id
