"""Idempotency-Key on POST: replay, mismatch, in-progress conflict, what is (not) stored."""

import datetime as dt
import itertools
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import Order
from payops.idempotency.models import IdempotencyRecord
from payops.idempotency.services import idempotency_purge_expired
from tests.api.fixtures import JsonClient, as_token, assert_problem, new_key
from tests.factories import make_product
from tests.fakes.stripe_api import konbini_next_action, payment_intent_json

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/checkout/"


def cart(**overrides):
    body = {"items": [{"sku": "TEA", "quantity": 1}], "email": "a@example.com", "payment_method": "konbini"}
    return {**body, "locale": "ja", **overrides}


@pytest.fixture
def shop(fake_stripe):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=50)
    ids = itertools.count(1)
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(
            id=f"pi_idem_{next(ids)}", amount=1500, status="requires_action", next_action=konbini_next_action(2**31)
        ),
    )
    return fake_stripe


def intents(fake):
    return fake.requests_to("/v1/payment_intents")


def test_same_key_same_body_replays_the_stored_answer(anon, shop):
    key = new_key()
    first = anon.post(CHECKOUT, cart(), key=key)
    second = anon.post(CHECKOUT, cart(), key=key)

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Order.objects.count() == 1
    assert len(intents(shop)) == 1


def test_whitespace_and_key_order_do_not_make_another_request(anon, shop):
    key = new_key()
    anon.post(CHECKOUT, json.dumps(cart()), key=key)
    reordered = json.dumps(dict(reversed(list(cart().items()))), indent=2)
    assert anon.post(CHECKOUT, reordered, key=key)["Idempotent-Replayed"] == "true"


def test_same_key_different_body_is_422_and_runs_nothing(anon, shop):
    key = new_key()
    anon.post(CHECKOUT, cart(), key=key)
    response = anon.post(CHECKOUT, cart(email="b@example.com"), key=key)
    assert "different request" in assert_problem(response, 422, "idempotency-key-reused")["detail"]
    assert Order.objects.count() == 1


def test_same_key_on_another_endpoint_is_422(client, operator, shop):
    api, key = as_token(client, operator), new_key()
    api.post(CHECKOUT, cart(), key=key)
    assert_problem(api.post("/api/v1/staff/webhook-events/replay/", {"ids": [1]}, key=key), 422)


def test_without_a_key_every_post_runs(anon, shop):
    anon.post(CHECKOUT, cart())
    anon.post(CHECKOUT, cart())
    assert Order.objects.count() == 2


def test_keys_are_scoped_per_user(client, viewer, operator, shop):
    key = new_key()
    as_token(client, viewer).post(CHECKOUT, cart(), key=key)
    other = as_token(client, operator).post(CHECKOUT, cart(), key=key)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    anonymous = JsonClient(client).post(CHECKOUT, cart(), key=key)
    assert anonymous.status_code == 201 and "Idempotent-Replayed" not in anonymous
    assert Order.objects.count() == 3


def test_client_errors_are_stored_and_replayed(anon, shop):
    key = new_key()
    bad = cart(items=[{"sku": "NOPE", "quantity": 1}])
    first = anon.post(CHECKOUT, bad, key=key)
    make_product(sku="NOPE")  # the world changes, the answer to this key does not
    second = anon.post(CHECKOUT, bad, key=key)
    assert_problem(first, 400, "unknown-sku")
    assert_problem(second, 400, "unknown-sku")
    assert second["Idempotent-Replayed"] == "true"


def test_server_errors_are_not_stored_so_a_retry_runs(anon, shop, settings):
    key = new_key()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    first = assert_problem(anon.post(CHECKOUT, cart(), key=key), 503, "payment-provider-unavailable")
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status) == ("in_progress", None)
    assert record.locked_until <= timezone.now()

    settings.STRIPE_API_BASE = shop.url
    retry = anon.post(CHECKOUT, cart(), key=key)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    # the retry continued the order the first attempt made (issue 13.2)
    assert retry.json()["order"]["number"] == first["order"]["number"]
    assert Order.objects.count() == 1


def test_after_a_server_error_the_key_still_refuses_a_different_request(anon, shop, settings):
    key = new_key()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    assert_problem(anon.post(CHECKOUT, cart(), key=key), 503, "payment-provider-unavailable")
    settings.STRIPE_API_BASE = shop.url
    assert_problem(anon.post(CHECKOUT, cart(email="b@example.com"), key=key), 422, "idempotency-key-reused")
    assert Order.objects.count() == 1


def test_throttled_requests_do_not_use_up_the_key(anon, shop, settings):
    settings.PAYOPS_API_THROTTLE_RATES = {**settings.PAYOPS_API_THROTTLE_RATES, "anon_checkout": "1/min"}
    anon.post(CHECKOUT, cart())
    key = new_key()
    assert_problem(anon.post(CHECKOUT, cart(), key=key), 429)
    assert not IdempotencyRecord.objects.filter(key=key).exists()


def test_a_different_request_while_the_key_runs_is_still_422(anon, shop):
    key = new_key()
    now = timezone.now()
    IdempotencyRecord.objects.create(
        principal="anonymous",
        key=key,
        fingerprint="ignored-while-running",
        method="POST",
        path=CHECKOUT,
        locked_until=now + dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(days=1),
    )
    # A mismatch is the client's bug whatever the first request is doing: it is reported first.
    response = anon.post(CHECKOUT, cart(), key=key)
    assert_problem(response, 422)


def test_in_progress_same_request_is_409_with_retry_after(anon, shop):
    from payops.idempotency.api import canonical_body
    from payops.idempotency.services import request_fingerprint

    key, now = new_key(), timezone.now()
    body = json.dumps(cart()).encode()
    IdempotencyRecord.objects.create(
        principal="anonymous",
        key=key,
        fingerprint=request_fingerprint(method="POST", path=CHECKOUT, body=canonical_body(body)),
        method="POST",
        path=CHECKOUT,
        locked_until=now + dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(days=1),
    )
    response = anon.post(CHECKOUT, body, key=key)
    assert_problem(response, 409, "idempotency-key-in-use")
    assert response["Retry-After"] == "1"
    assert Order.objects.count() == 0

    # A request that died with its process holds the key only until its lock runs out.
    IdempotencyRecord.objects.filter(key=key).update(locked_until=now - dt.timedelta(seconds=1))
    assert anon.post(CHECKOUT, body, key=key).status_code == 201


def test_keys_expire_after_24_hours(anon, shop):
    key = new_key()
    anon.post(CHECKOUT, cart(), key=key)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = anon.post(CHECKOUT, cart(), key=key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2


def test_expired_keys_are_purged(anon, shop):
    anon.post(CHECKOUT, cart(), key=new_key())
    anon.post(CHECKOUT, cart(), key=new_key())
    IdempotencyRecord.objects.filter(pk=IdempotencyRecord.objects.first().pk).update(expires_at=timezone.now())
    assert idempotency_purge_expired() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "has space"])
def test_malformed_keys_are_refused(anon, shop, key):
    assert_problem(anon.post(CHECKOUT, cart(), key=key), 400, "invalid-idempotency-key")
    assert Order.objects.count() == 0


def test_gets_ignore_the_header(anon, shop):
    make_product(sku="CUP")
    response = anon.get("/api/v1/products/", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_task_is_scheduled(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert schedule["task"] == "payops.idempotency.tasks.purge_expired_idempotency_keys"
    call_command("check")
