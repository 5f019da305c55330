import pytest

from orders.models import Order, Refund, Shipment
from tests.api.fixtures import as_token, assert_problem, new_key
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import payment_intent_json
from tests.orders.api.helpers import paid_card_order, refund_answer

pytestmark = pytest.mark.django_db


def url(order, action):
    return f"/api/v1/staff/orders/{order.number}/{action}/"


# --- refunds --------------------------------------------------------------------------------


def test_refund_needs_the_refund_level(client, anon, viewer, operator):
    order = paid_card_order()
    assert_problem(anon.post(url(order, "refunds"), {"amount": 100}), 401)
    problem = assert_problem(as_token(client, operator).post(url(order, "refunds"), {"amount": 100}), 403)
    assert "refund" in problem["detail"]
    assert_problem(as_token(client, viewer).post(url(order, "refunds"), {"amount": 100}), 403)
    assert not Refund.objects.exists()


def test_a_view_token_of_a_refunder_can_only_read(client, refunder):
    order = paid_card_order()
    api = as_token(client, refunder, "view")
    assert api.get(url(order, "")[:-1]).status_code == 200
    problem = assert_problem(api.post(url(order, "refunds"), {"amount": 100}), 403, "permission-denied")
    assert "token" in problem["detail"]


def test_partial_refund_happy_path(client, refunder, fake_stripe):
    fake_stripe.responder = refund_answer
    order = paid_card_order(price=5000, quantity=2)

    response = as_token(client, refunder).post(url(order, "refunds"), {"amount": 3000, "reason": "damaged"})

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["refund"]["status"] == "succeeded"
    assert data["refund"]["amount"]["amount"] == 3000
    assert data["refund"]["requested_by"] == "refunder"
    assert data["order"]["status"] == "partially_refunded"
    assert data["order"]["refundable"]["amount"] == 7000
    event = Order.objects.get(pk=order.pk).events.get(type="refund.requested")
    audit = Order.objects.get(pk=order.pk).events.get(type="staff.refund_requested")
    assert event.staff_user == audit.staff_user == refunder
    assert event.cause_reference == audit.cause_reference and event.cause_reference.startswith("api:")
    assert audit.data["via"].startswith("api token pyo_") and audit.data["amount"] == 3000


def test_a_retried_refund_with_its_key_is_one_refund(client, refunder, fake_stripe):
    fake_stripe.responder = refund_answer
    order = paid_card_order()
    api, key = as_token(client, refunder), new_key()

    first = api.post(url(order, "refunds"), {"amount": 1000}, key=key)
    second = api.post(url(order, "refunds"), {"amount": 1000}, key=key)

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Refund.objects.count() == 1
    assert len(fake_stripe.requests_to("/v1/refunds")) == 1


def test_refund_after_stripe_was_unreachable_is_retried_safely_with_the_key(client, refunder, fake_stripe, settings):
    order = paid_card_order()
    api, key = as_token(client, refunder), new_key()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    first = api.post(url(order, "refunds"), {"amount": 1000}, key=key)
    problem = assert_problem(first, 503, "payment-provider-unavailable")
    assert first["Retry-After"] == "5" and "Idempotency-Key" in problem["detail"]
    assert Refund.objects.get().status == "requested"  # reserved, the retry task will submit it

    settings.STRIPE_API_BASE = fake_stripe.url
    fake_stripe.responder = refund_answer
    second = api.post(url(order, "refunds"), {"amount": 1000}, key=key)

    assert second.status_code == 201, second.content
    assert "Idempotent-Replayed" not in second  # a 5xx is never stored: the retry ran
    assert Refund.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": 100, "reason": "x" * 256}, "reason"),
        ({"amount": 100, "extra": 1}, "extra"),
    ],
)
def test_refund_validation(client, refunder, body, field):
    order = paid_card_order()
    problem = assert_problem(as_token(client, refunder).post(url(order, "refunds"), body), 400, "validation-error")
    assert field in problem["errors"]


def test_refund_more_than_refundable_is_a_409_and_nothing_is_asked(client, refunder, fake_stripe):
    order = paid_card_order(price=5000, quantity=1)
    problem = assert_problem(
        as_token(client, refunder).post(url(order, "refunds"), {"amount": 9999}), 409, "action-not-allowed"
    )
    assert "at most" in problem["detail"]
    assert fake_stripe.requests == []


def test_refund_of_an_unknown_order_is_404(client, refunder):
    response = as_token(client, refunder).post("/api/v1/staff/orders/PO-NONE-NONE/refunds/", {"amount": 1})
    assert_problem(response, 404, "not-found")


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_an_unpaid_order(client, operator, fake_stripe):
    order = make_order(status="awaiting_payment", product=make_product(stock_on_hand=3))
    make_payment(order, intent_id="pi_open", method="konbini", status="requires_action")
    fake_stripe.responder = lambda r: (200, payment_intent_json(id="pi_open", status="canceled"))

    response = as_token(client, operator).post(url(order, "cancel"), {"reason": "customer asked"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents/pi_open/cancel"]


def test_cancel_needs_operate_and_a_reason_and_an_unpaid_order(client, viewer, operator):
    order = paid_card_order()
    assert_problem(as_token(client, viewer).post(url(order, "cancel"), {"reason": "x"}), 403)
    assert "reason" in assert_problem(as_token(client, operator).post(url(order, "cancel"), {}), 400)["errors"]
    problem = assert_problem(as_token(client, operator).post(url(order, "cancel"), {"reason": "x"}), 409)
    assert "Refund it instead" in problem["detail"]


# --- shipments --------------------------------------------------------------------------------


def test_mark_shipped(client, operator):
    order = paid_card_order(status="fulfilling")
    body = {"carrier": "Yamato", "tracking_number": "1234-5678", "tracking_url": "https://track.example/1234"}

    response = as_token(client, operator).post(url(order, "shipments"), body)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "shipped"
    assert data["shipments"][0]["tracking_number"] == "1234-5678"
    assert data["shipments"][0]["shipped_by"] == "operator"
    # The same shipment entered twice changes nothing.
    assert as_token(client, operator).post(url(order, "shipments"), body).status_code == 200
    assert Shipment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tracking_number": "1"}, "carrier"),
        ({"carrier": "Yamato"}, "tracking_number"),
        ({"carrier": "Yamato", "tracking_number": "1", "tracking_url": "not a url"}, "tracking_url"),
    ],
)
def test_shipment_validation(client, operator, body, field):
    order = paid_card_order(status="fulfilling")
    assert field in assert_problem(as_token(client, operator).post(url(order, "shipments"), body), 400)["errors"]


def test_cannot_ship_an_unpaid_order(client, operator, viewer):
    order = make_order(status="awaiting_payment")
    body = {"carrier": "Yamato", "tracking_number": "1"}
    assert_problem(as_token(client, viewer).post(url(order, "shipments"), body), 403)
    problem = assert_problem(as_token(client, operator).post(url(order, "shipments"), body), 409, "action-not-allowed")
    assert "awaiting payment" in problem["detail"]


# --- payments recorded by hand ---------------------------------------------------------------


def test_record_a_payment_received_outside_stripe(client, operator, fake_stripe):
    order = make_order(status="awaiting_payment", product=make_product(price_amount=3000))
    fake_stripe.responder = lambda r: (200, payment_intent_json(status="canceled"))
    body = {"amount": 3000, "currency": "jpy", "reference": "slip-0042"}

    first = as_token(client, operator).post(url(order, "outside-payments"), body)
    again = as_token(client, operator).post(url(order, "outside-payments"), body)

    assert first.status_code == 201, first.content
    assert first.json()["applied"] is True
    assert first.json()["order"]["status"] == "paid"
    assert first.json()["order"]["payments"][0]["outside_source"] == "manual"
    assert again.status_code == 200 and again.json()["applied"] is False


def test_recording_a_wrong_amount_is_refused(client, operator):
    order = make_order(status="awaiting_payment", product=make_product(price_amount=3000))
    response = as_token(client, operator).post(
        url(order, "outside-payments"), {"amount": 1000, "currency": "JPY", "reference": "r1"}
    )
    assert "does not match" in assert_problem(response, 409, "outside-payment-refused")["detail"]
    assert Order.objects.get(pk=order.pk).status == "awaiting_payment"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 3000, "currency": "XXX", "reference": "r"}, "currency"),
        ({"amount": 3000, "currency": "JPY"}, "reference"),
        ({"currency": "JPY", "reference": "r"}, "amount"),
    ],
)
def test_outside_payment_validation(client, operator, body, field):
    order = make_order(status="awaiting_payment")
    assert field in assert_problem(as_token(client, operator).post(url(order, "outside-payments"), body), 400)["errors"]


def test_recording_a_payment_needs_operate(client, viewer):
    order = make_order(status="awaiting_payment")
    body = {"amount": 1500, "currency": "JPY", "reference": "r"}
    assert_problem(as_token(client, viewer).post(url(order, "outside-payments"), body), 403)
    assert_problem(client.post(url(order, "outside-payments"), body, content_type="application/json"), 401)


# --- notes ------------------------------------------------------------------------------------


def test_a_note_needs_operate_and_lands_on_the_timeline(client, viewer, operator):
    order = paid_card_order()
    assert_problem(as_token(client, viewer).post(url(order, "notes"), {"text": "called"}), 403)
    assert "text" in assert_problem(as_token(client, operator).post(url(order, "notes"), {}), 400)["errors"]

    response = as_token(client, operator).post(url(order, "notes"), {"text": "customer called"})

    assert response.status_code == 201, response.content
    (note,) = Order.objects.get(pk=order.pk).events.filter(type="staff.note")
    assert note.staff_user == operator and note.data["text"] == "customer called"
