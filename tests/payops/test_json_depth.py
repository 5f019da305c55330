"""Issue 13.8: deeply nested JSON is refused with 400 on every edge that parses JSON, never a 500.

~1,000 nested brackets made Python's recursive JSON parser raise RecursionError: a 500 with a
traceback on the anonymous checkout API and on the Stripe webhook endpoint (both its ASGI
edge and the Django view).
"""

import json

import pytest

from orders.models import Order
from payops.json_depth import MAX_JSON_DEPTH, json_too_deep
from tests.factories import make_product
from tests.stripe_events import sign
from tests.webhooks.test_asgi_ingest import SECRET, Request, deliver
from webhooks.models import InboxEvent

DEEP = 1000


def nested_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_event() -> bytes:
    """A Stripe-shaped event whose object holds a value nested DEEP levels."""
    inner = '{"a": ' * DEEP + "1" + "}" * DEEP
    return (
        '{"id": "evt_deep", "object": "event", "type": "payment_intent.succeeded", "created": 1700000000, '
        f'"livemode": false, "data": {{"object": {{"id": "pi_deep", "object": "payment_intent", "x": {inner}}}}}}}'
    ).encode()


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (nested_array(MAX_JSON_DEPTH), False),
        (nested_array(MAX_JSON_DEPTH + 1), True),
        (b'{"a": "' + b"[" * 5000 + b'"}', False),  # brackets inside a string nest nothing
        (b'{"a": "\\"' + b"[" * 5000 + b'"}', False),  # nor after an escaped quote
        (b'["\\\\", ' + b"[" * 100 + b"]" * 100 + b"]", True),  # an escaped backslash ends no string
        (b"[" * 100, True),  # malformed and deep: refused before the parser sees it
        (b'{"items": [{"sku": "TEA", "quantity": 1}]}', False),
    ],
)
def test_depth_is_measured_on_the_text(body, deep):
    assert json_too_deep(body) is deep


@pytest.mark.django_db
def test_the_checkout_api_refuses_a_deeply_nested_body_with_400(client):
    make_product(sku="TEA")
    body = b'{"items": ' + nested_array(DEEP) + b', "email": "a@example.com"}'
    for headers in ({}, {"HTTP_IDEMPOTENCY_KEY": "deep-1"}):
        response = client.post("/api/v1/checkout/", body, content_type="application/json", **headers)
        assert response.status_code == 400, response.content
        assert response.json()["type"] == "urn:payops:problem:malformed-request"
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_django_webhook_view_refuses_a_deeply_nested_event_with_400(client):
    body = deep_event()
    response = client.post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, SECRET)
    )
    assert response.status_code == 400, response.content
    assert not InboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_asgi_webhook_edge_refuses_a_deeply_nested_event_with_400():
    body = deep_event()
    [response] = deliver([Request(body, {"stripe-signature": sign(body, SECRET)})])
    assert response.status == 400
    assert "deeper" in response.json()["error"]
    assert not InboxEvent.objects.exists()


def test_a_normal_event_is_far_from_the_limit():
    event = json.dumps({"data": {"object": {"charges": {"data": [{"payment_method_details": {"card": {}}}]}}}})
    assert not json_too_deep(event.encode(), limit=8)
