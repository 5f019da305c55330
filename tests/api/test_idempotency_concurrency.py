"""Two requests with one Idempotency-Key at the same moment, on real PostgreSQL row locks."""

import threading

import pytest
from django.db import connection
from django.test import Client

from orders.models import Order
from tests.factories import make_product
from tests.fakes.stripe_api import konbini_next_action, payment_intent_json
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BODY = (
    '{"items": [{"sku": "TEA", "quantity": 1}], "email": "a@example.com", "payment_method": "konbini", "locale": "ja"}'
)


def post(key):
    return Client().post("/api/v1/checkout/", BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_one_executes_the_other_gets_409_then_the_stored_answer(fake_stripe):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=10)
    inside_stripe, let_go = threading.Event(), threading.Event()

    def responder(request):
        if request.path == "/v1/payment_intents":
            inside_stripe.set()
            let_go.wait(20)
        answer = payment_intent_json(amount=1500, status="requires_action", next_action=konbini_next_action(2**31))
        return 200, answer

    fake_stripe.responder = responder
    results = {}

    def first():
        try:
            results["first"] = post("key-1")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside_stripe.wait(20), "the first request never reached Stripe"
        second = post("key-1")  # while the first is still running
    finally:
        let_go.set()
        thread.join(30)

    assert second.status_code == 409, second.content
    assert second["Content-Type"] == "application/problem+json"
    assert second["Retry-After"] == "1"
    assert results["first"].status_code == 201
    third = post("key-1")
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"
    assert third.json() == results["first"].json()
    assert Order.objects.count() == 1
    assert len(fake_stripe.requests_to("/v1/payment_intents")) == 1


def test_many_simultaneous_requests_with_one_key_make_one_order(fake_stripe):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=10)
    fake_stripe.delay_seconds = 0.3
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(amount=1500, status="requires_action", next_action=konbini_next_action(2**31)),
    )
    barrier, statuses = threading.Barrier(8), []

    def shopper():
        try:
            barrier.wait()
            statuses.append(post("key-many").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    assert Order.objects.count() == 1
