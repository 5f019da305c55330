import pytest

from orders.models import Order
from orders.services.fulfilment import order_note
from orders.services.order_events import Cause, record_order_event
from tests.api.fixtures import assert_problem
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import konbini_next_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def konbini_order():
    order = make_order(status="awaiting_payment", product=make_product(sku="TEA"), quantity=2, locale="ja")
    make_payment(
        order,
        method="konbini",
        status="requires_action",
        next_action=konbini_next_action(2_000_000_000),
        client_secret="pi_secret",
    )
    record_order_event(order=order, type="order.created", cause=Cause.customer())
    return Order.objects.get(pk=order.pk)


def test_the_token_shows_status_lines_next_step_and_timeline(anon, konbini_order):
    response = anon.get(f"/api/v1/orders/{konbini_order.token}/")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["number"] == konbini_order.number
    assert data["status"] == "awaiting_payment"
    assert data["status_display"] == "お支払い待ち"  # in the order's language
    assert data["total"]["amount"] == 3000
    assert data["lines"][0]["sku"] == "TEA"
    assert data["lines"][0]["quantity"] == 2
    assert data["payment"]["next_action"]["type"] == "konbini"
    assert data["payment"]["next_action"]["stores"]["lawson"]["payment_code"] == "123456"
    assert [event["type"] for event in data["timeline"]] == ["order.created"]
    assert data["sequence"] == 1
    assert "email" not in data and "id" not in data


def test_labels_are_in_the_orders_language(anon, konbini_order):
    ja = anon.get(f"/api/v1/orders/{konbini_order.token}/").json()
    Order.objects.filter(pk=konbini_order.pk).update(locale="en")
    en = anon.get(f"/api/v1/orders/{konbini_order.token}/").json()
    assert (ja["timeline"][0]["label"], ja["status_display"]) == ("ご注文を受け付けました", "お支払い待ち")
    assert (en["timeline"][0]["label"], en["status_display"]) == ("Order placed", "Awaiting payment")


def test_staff_notes_stay_off_the_shoppers_timeline(anon, konbini_order, viewer):
    order_note(order_id=konbini_order.pk, cause=Cause.staff(viewer), text="customer sounded angry")
    data = anon.get(f"/api/v1/orders/{konbini_order.token}/").json()
    assert [event["type"] for event in data["timeline"]] == ["order.created"]
    assert "angry" not in str(data)


def test_an_order_without_payment_has_none(anon):
    order = make_order()
    assert anon.get(f"/api/v1/orders/{order.token}/").json()["payment"] is None


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 40, "../../etc"])
def test_unknown_and_malformed_tokens_look_the_same(anon, konbini_order, token):
    assert_problem(anon.get(f"/api/v1/orders/{token}/"), 404, "not-found")


def test_a_token_reaches_only_its_own_order(anon, konbini_order):
    other = make_order(email="someone-else@example.com")
    mine = anon.get(f"/api/v1/orders/{konbini_order.token}/").json()
    theirs = anon.get(f"/api/v1/orders/{other.token}/").json()
    assert mine["number"] == konbini_order.number and theirs["number"] == other.number
    # The order token is no credential anywhere else.
    response = anon.get("/api/v1/staff/orders/", HTTP_AUTHORIZATION=f"Bearer {konbini_order.token}")
    assert_problem(response, 401)
    assert_problem(anon.get(f"/api/v1/staff/orders/{konbini_order.number}/"), 401, "not-authenticated")


def test_query_count_does_not_grow_with_lines_or_events(anon, konbini_order, django_assert_max_num_queries):
    for _ in range(5):
        record_order_event(order=konbini_order, type="payment.partially_funded", cause=Cause.system("t"))
    with django_assert_max_num_queries(5):
        assert anon.get(f"/api/v1/orders/{konbini_order.token}/").status_code == 200
