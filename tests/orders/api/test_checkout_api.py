import json

import pytest

from orders.models import Order
from tests.factories import make_product
from tests.fakes.stripe_api import konbini_next_action, payment_intent_json

pytestmark = pytest.mark.django_db

URL = "/api/v1/checkout/"


@pytest.fixture
def catalogue():
    return [
        make_product(sku="TEA", price_amount=1500, stock_on_hand=5),
        make_product(sku="CUP", price_amount=4800, stock_on_hand=2),
        make_product(sku="USD-ITEM", price_amount=999, currency="USD"),
    ]


@pytest.fixture
def konbini_stripe(fake_stripe):
    def responder(r):
        return 200, payment_intent_json(
            amount=int(r.params["amount"]),
            status="requires_action",
            payment_method_types=["konbini"],
            next_action=konbini_next_action(2_000_000_000),
        )

    fake_stripe.responder = responder
    return fake_stripe


def body(**overrides):
    data = {
        "items": [{"sku": "TEA", "quantity": 2}],
        "email": "a@example.com",
        "payment_method": "konbini",
        "locale": "ja",
    }
    data.update(overrides)
    return data


def post(client, data, **kwargs):
    raw = data if isinstance(data, (str, bytes)) else json.dumps(data)
    kwargs.setdefault("content_type", "application/json")
    return client.post(URL, raw, **kwargs)


def test_checkout_returns_order_and_payment(client, catalogue, konbini_stripe):
    response = post(client, body())
    assert response.status_code == 201, response.content
    data = response.json()
    order = Order.objects.get()
    assert data["order"]["number"] == order.number
    assert data["order"]["token"] == order.token
    assert data["order"]["status"] == "awaiting_payment"
    assert data["order"]["status_url"].endswith(f"/orders/{order.token}/")
    assert data["order"]["total"] == {"amount": 3000, "currency": "JPY", "display": "¥3,000"}
    assert data["order"]["lines"][0]["sku"] == "TEA"
    assert data["payment"]["method"] == "konbini"
    assert data["payment"]["id"] == "pi_fake_1"
    assert data["payment"]["next_action"]["type"] == "konbini"
    assert data["payment"]["next_action"]["stores"]["familymart"]["payment_code"] == "123456"
    assert "id" not in data["order"]  # never the primary key


def test_products_list(client, catalogue):
    response = client.get("/api/v1/products/")
    assert response.status_code == 200
    tea = next(p for p in response.json()["results"] if p["sku"] == "TEA")
    assert tea["price"] == {"amount": 1500, "currency": "JPY", "display": "¥1,500"}
    assert tea["available"] == 5


@pytest.mark.parametrize(
    ("data", "status", "field", "text"),
    [
        ({"email": "a@example.com", "payment_method": "konbini", "locale": "ja"}, 400, "items", "required"),
        (body(extra="x"), 400, "extra", "not allowed"),
        (body(items=[{"sku": "TEA", "quantity": 1, "price": 1}]), 400, "items[0].price", "not allowed"),
        (body(items=[{"sku": "NOPE", "quantity": 1}]), 400, "items", "unknown SKU"),
        (body(items=[{"sku": "TEA", "quantity": 0}]), 400, "items[0].quantity", "greater than or equal to 1"),
        (body(items=[{"sku": "TEA", "quantity": -1}]), 400, "items[0].quantity", "greater than or equal to 1"),
        (body(items=[{"sku": "TEA", "quantity": 1.5}]), 400, "items[0].quantity", "valid integer"),
        (body(items=[{"sku": "TEA", "quantity": "2"}]), 400, "items[0].quantity", "valid integer"),
        (body(items=[{"sku": "TEA", "quantity": True}]), 400, "items[0].quantity", "valid integer"),
        (body(items=[{"sku": "TEA", "quantity": 10**12}]), 400, "items[0].quantity", "less than or equal to 99"),
        (body(items=[{"sku": "TEA", "quantity": 1}, {"sku": "TEA", "quantity": 1}]), 400, "items", "more than once"),
        (body(items=[]), 400, "items", "empty"),
        (body(email="not-an-email"), 400, "email", "valid email"),
        (body(payment_method="paypay"), 400, "payment_method", "not a valid choice"),
        (body(locale="fr"), 400, "locale", "not a valid choice"),
        (body(items=[{"sku": "USD-ITEM", "quantity": 1}]), 400, "payment_method", "only available for JPY"),
        (body(items=[{"sku": "TEA", "quantity": 1}, {"sku": "USD-ITEM", "quantity": 1}]), 400, "items", "currencies"),
        (body(items=[{"sku": "CUP", "quantity": 3}]), 409, "items", "requested 3, available 2"),
        (body(payment_method_id="pm_card_visa"), 400, "payment_method_id", "Only card"),
    ],
)
def test_bad_input_gets_a_clear_problem_and_creates_nothing(
    client, catalogue, konbini_stripe, data, status, field, text
):
    response = post(client, data)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:payops:problem:")
    assert any(text in message for message in problem["errors"][field]), problem
    assert not Order.objects.exists()
    assert konbini_stripe.requests == []


def test_out_of_stock_lists_the_shortage(client, catalogue, konbini_stripe):
    response = post(client, body(items=[{"sku": "CUP", "quantity": 3}]))
    assert response.json()["shortages"] == [{"sku": "CUP", "requested": 3, "available": 2}]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "slug"),
    [
        ("{not json", "application/json", 400, "malformed-request"),
        ("[1, 2]", "application/json", 400, "validation-error"),
        ("items=TEA", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        ("<xml/>", "text/xml", 415, "unsupported-media-type"),
    ],
)
def test_malformed_bodies(client, catalogue, raw, content_type, status, slug):
    response = post(client, raw, content_type=content_type)
    assert response.status_code == status
    assert response.json()["type"] == f"urn:payops:problem:{slug}"
    assert not Order.objects.exists()


def test_body_over_the_limit_is_refused(client, catalogue, settings):
    data = body(email="a@example.com")
    data["items"] = [{"sku": f"SKU-{i}-{'x' * 40}", "quantity": 1} for i in range(400)]
    response = post(client, data)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]
    assert not Order.objects.exists()


def test_declined_card_is_402_with_the_order_and_reason(client, catalogue, fake_stripe):
    fake_stripe.responder = lambda r: (
        402,
        {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
        },
    )
    response = post(client, body(payment_method="card", payment_method_id="pm_card_chargeDeclined"))
    assert response.status_code == 402
    problem = response.json()
    assert problem["reason_code"] == "generic_decline"
    # The detail is for the shopper, in the order's language, never Stripe's developer message (issue 14.2).
    assert problem["kind"] == "declined"
    assert problem["detail"].startswith("カードがご利用いただけませんでした。別のカードをお試しいただくか")
    assert problem["order"]["status"] == "payment_failed"
    assert Order.objects.get().status == "payment_failed"


def test_stripe_unreachable_is_503_with_retry_after(client, catalogue, fake_stripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = post(client, body(payment_method="card"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was charged" in response.json()["detail"]
    assert catalogue[0].__class__.objects.get(sku="TEA").stock_reserved == 0


def test_a_payment_stripe_refuses_to_set_up_is_402_not_503(client, catalogue, fake_stripe):
    fake_stripe.responder = lambda r: (
        400,
        {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such PaymentMethod"}},
    )
    response = post(client, body(payment_method="card", payment_method_id="pm_0"))
    assert response.status_code == 402
    problem = response.json()
    assert problem["type"] == "urn:payops:problem:payment-setup-failed"
    assert problem["order"]["status"] == "payment_failed"
    assert "Retry-After" not in response
