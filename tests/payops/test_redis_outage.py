"""Issue 13.6: with Redis stopped, shoppers keep checking out and staff keep signing in.

The rate limiter's counters live in the Redis cache; an outage used to turn every throttled
request (checkout, order status) and every sign-in into a 500. Now the counters fall back to
this process while Redis is away (limits still hold, per process) and a warning is logged.
A real redis-server of the test's own is stopped; the machine's Redis is never touched.
"""

import itertools
import json
import logging

import pytest
import redis
from django.contrib.auth import get_user_model

import payops.cache
from orders.models import Order
from tests.factories import make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json
from tests.processes import PrivateRedis

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/checkout/"


@pytest.fixture
def redis_cache(tmp_path, settings):
    server = PrivateRedis(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "payops.cache.RedisCacheWithLocalFallback",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    yield server
    server.stop()


@pytest.fixture
def shop(fake_stripe):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=50)
    ids = itertools.count(1)
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(
            id=f"pi_outage_{next(ids)}",
            amount=int(r.params["amount"]),
            status="requires_action",
            next_action=KONBINI_ACTION,
        ),
    )
    return fake_stripe


def checkout(client):
    body = {"items": [{"sku": "TEA", "quantity": 1}], "email": "a@example.com", "payment_method": "konbini"}
    return client.post(CHECKOUT, json.dumps({**body, "locale": "ja"}), content_type="application/json")


def test_shopper_paths_and_sign_in_work_while_redis_is_stopped(client, redis_cache, shop, caplog):
    # given a shop that works with Redis up (its connections are open)
    assert checkout(client).status_code == 201
    get_user_model().objects.create_user("staff", password="pw-correct-horse")
    # when Redis goes away
    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger="payops.cache"):
        placed = checkout(client)
        token = placed.json()["order"]["token"] if placed.status_code == 201 else ""
        status = client.get(f"/api/v1/orders/{token}/")
        signed_in = client.post("/login/", {"username": "staff", "password": "pw-correct-horse"})
    # then shoppers check out and follow their order, staff sign in
    assert placed.status_code == 201, placed.content
    assert status.status_code == 200, status.content
    assert signed_in.status_code == 302, signed_in.content
    assert Order.objects.count() == 2
    assert "Redis cache unreachable" in caplog.text


def test_rate_limits_still_hold_per_process_while_redis_is_stopped(client, redis_cache, shop, settings):
    settings.PAYOPS_API_THROTTLE_RATES = {**settings.PAYOPS_API_THROTTLE_RATES, "anon_checkout": "2/min"}
    redis_cache.stop()
    answers = [checkout(client).status_code for _ in range(3)]
    assert answers == [201, 201, 429]


def test_shared_counters_resume_when_redis_is_back(client, redis_cache, shop, settings, monkeypatch):
    monkeypatch.setattr(payops.cache, "RETRY_SECONDS", 0.0)
    redis_cache.stop()
    assert checkout(client).status_code == 201
    redis_cache.start()
    assert checkout(client).status_code == 201
    keys = redis.Redis.from_url(redis_cache.url).keys("*throttle*")
    assert keys, "the counter of the request after the outage is in Redis again"
