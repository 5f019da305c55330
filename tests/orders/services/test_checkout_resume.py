"""Issue 13.2: a retried checkout never makes a second order.

A checkout that fails after its first transaction committed (its database connection killed
between the order and the PaymentIntent) leaves an order holding stock with a payment
``creating``. The Idempotency-Key stays bound to that order: the retry continues it, and Stripe
is asked with the same idempotency key, so it answers with the same PaymentIntent.
"""

import json
import threading

import psycopg
import pytest
from django.db import connection

from orders.models import Order, Product
from tests.factories import make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json
from tests.markers import requires_postgres

CHECKOUT = "/api/v1/checkout/"
BODY = {"items": [{"sku": "TEA", "quantity": 2}], "email": "a@example.com", "payment_method": "konbini", "locale": "ja"}


def post(client, key):
    return client.post(CHECKOUT, json.dumps(BODY), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


class StripeThatRemembersKeys:
    """Stripe's idempotency: one PaymentIntent per idempotency key, a repeat gets the same one."""

    def __init__(self) -> None:
        self.intents: dict[str, dict] = {}
        self.on_create = lambda: None
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            key = request.idempotency_key
            if key not in self.intents:
                self.intents[key] = payment_intent_json(
                    id=f"pi_resume_{len(self.intents) + 1}",
                    amount=int(request.params["amount"]),
                    status="requires_action",
                    payment_method_types=["konbini"],
                    next_action=KONBINI_ACTION,
                    metadata={"order_id": request.params["metadata[order_id]"]},
                )
        self.on_create()
        return 200, self.intents[key]


def kill_backend(pid: int) -> None:
    """pg_terminate_backend on this test database's one connection (never anyone else's)."""
    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = %s AND datname = current_database()",
            (pid,),
        )


def own_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_retry_after_the_database_failed_mid_checkout_continues_the_same_order(client, fake_stripe, monkeypatch):
    # given Stripe answers the PaymentIntent, but the database drops every connection of this
    # request from then on, after the order (holding stock) has committed
    from orders.services import checkout as checkout_module

    product = make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    stripe = StripeThatRemembersKeys()
    fake_stripe.responder = stripe
    apply_intent = checkout_module.payment_apply_intent

    def apply_on_a_dying_database(**kwargs):
        kill_backend(own_backend_pid())
        return apply_intent(**kwargs)

    monkeypatch.setattr(checkout_module, "payment_apply_intent", apply_on_a_dying_database)

    # when the first attempt fails with a server error (the client should retry)...
    first = post(client, "retry-me")
    assert first.status_code in (500, 503), first.content
    assert Order.objects.count() == 1  # the order was written before the database failed
    # ...and the client retries with the same key once the database is back
    monkeypatch.setattr(checkout_module, "payment_apply_intent", apply_intent)
    retry = post(client, "retry-me")

    # then the retry answers with that one order and the PaymentIntent Stripe made the first time
    assert retry.status_code == 201, retry.content
    order = Order.objects.get()
    assert retry.json()["order"]["number"] == order.number
    assert retry.json()["payment"]["id"] == "pi_resume_1"
    assert order.status == "awaiting_payment"
    assert Product.objects.get(pk=product.pk).stock_reserved == 2
    creates = fake_stripe.requests_to("/v1/payment_intents")
    assert len(creates) == 2 and {r.idempotency_key for r in creates} == {f"payops:{order.number}:payment-intent"}
    # and a third attempt is the stored answer
    replay = post(client, "retry-me")
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == retry.json()


def test_a_connection_dropped_while_stripe_answered_costs_the_shopper_nothing(client, fake_stripe):
    # given the database drops the request's idle connection while Stripe makes the intent
    make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    stripe = StripeThatRemembersKeys()
    fake_stripe.responder = stripe
    pid = own_backend_pid()
    stripe.on_create = lambda: kill_backend(pid)
    # when the shopper checks out (with or without a key)
    response = client.post(CHECKOUT, json.dumps(BODY), content_type="application/json")
    # then the intent is recorded on a new connection and the shopper gets the order
    assert response.status_code == 201, response.content
    assert Order.objects.get().status == "awaiting_payment"
    assert len(fake_stripe.requests_to("/v1/payment_intents")) == 1
