import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services.order_events import Cause, record_order_event
from tests.api.fixtures import as_token, assert_problem
from tests.factories import make_order, make_payment
from tests.orders.api.helpers import paid_card_order

pytestmark = pytest.mark.django_db

LIST = "/api/v1/staff/orders/"


def test_anonymous_gets_401_with_the_bearer_scheme(anon):
    response = anon.get(LIST)
    assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="payops"'


def test_a_user_without_staff_level_gets_403(client, outsider):
    client.force_login(outsider)
    assert_problem(client.get(LIST), 403, "permission-denied")


@pytest.mark.parametrize("level_user", ["viewer", "operator", "refunder"])
def test_every_staff_level_may_read(client, request, level_user):
    user = request.getfixturevalue(level_user)
    make_order()
    assert as_token(client, user).get(LIST).status_code == 200
    client.force_login(user)
    assert client.get(LIST).status_code == 200


def test_list_newest_first_with_the_fields_staff_scan(client, viewer):
    older = make_order(email="a@example.com")
    newer = paid_card_order(email="b@example.com")
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))

    data = as_token(client, viewer).get(LIST).json()

    assert [o["number"] for o in data["results"]] == [newer.number, older.number]
    first = data["results"][0]
    assert first["email"] == "b@example.com"
    assert first["payment_method"] == "card"
    assert first["status"] == "paid"
    assert first["total"]["amount"] == 10_000
    assert data["next"] is None and data["previous"] is None


def test_cursor_pagination_walks_every_order_once(client, viewer):
    numbers = {make_order().number for _ in range(7)}
    api = as_token(client, viewer)
    seen, url = [], f"{LIST}?page_size=3"
    while url:
        page = api.get(url).json()
        seen += [o["number"] for o in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(numbers) and len(seen) == 7


def test_a_forged_cursor_is_a_404_problem(client, viewer):
    # DRF's own cursors are plain base64 ("p=not-a-date" here): ours are signed.
    assert_problem(as_token(client, viewer).get(f"{LIST}?cursor=cD1ub3QtYS1kYXRl"), 404, "not-found")


def test_filters_as_in_the_dashboard(client, viewer):
    konbini = make_order(status="awaiting_payment", email="k@example.com")
    make_payment(konbini, method="konbini", intent_id="pi_konbini")
    paid = paid_card_order(email="p@example.com")
    shipped = paid_card_order(status="shipped", email="s@example.com")
    old = make_order(status="expired")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    api = as_token(client, viewer)

    def numbers(query):
        response = api.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.content
        return {o["number"] for o in response.json()["results"]}

    assert numbers("status=paid&status=shipped") == {paid.number, shipped.number}
    assert numbers("method=konbini") == {konbini.number}
    assert numbers("q=P@example.com") == {paid.number}
    assert numbers("q=pi_konbini") == {konbini.number}
    assert numbers(f"q={paid.number[3:]}") == {paid.number}
    assert numbers(f"q={paid.number[:6]}") >= {paid.number}
    from_day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert old.number not in numbers(f"created_from={from_day}")
    assert numbers(f"created_to={(timezone.localdate() - dt.timedelta(days=30)).isoformat()}") == {old.number}
    assert numbers("currency=JPY&amount_min=10000&amount_max=10000") == {paid.number, shipped.number}
    assert numbers("amount_min=10000") == {paid.number, shipped.number}  # in the shop's currency
    assert numbers("currency=USD&amount_min=0") == set()
    assert len(numbers("cursor=&page_size=200")) == 4  # an empty cursor is the first page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nope", "status"),
        ("method=paypay", "method"),
        ("created_from=yesterday", "created_from"),
        ("created_from=", "created_from"),
        ("status=", "status"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=201", "page_size"),
        ("currency=JPY&amount_min=-1", "amount_min"),
        ("currency=JPY&amount_max=1.5", "amount_max"),
    ],
)
def test_invalid_filters_are_400_problems_naming_the_parameter(client, viewer, query, field):
    problem = assert_problem(as_token(client, viewer).get(f"{LIST}?{query}"), 400, "validation-error")
    assert field in problem["errors"]


def test_list_query_count_is_flat(client, viewer, django_assert_max_num_queries):
    for _ in range(10):
        paid_card_order()
    api = as_token(client, viewer)
    # token (+ its last-used write), the user's permissions (2), the page, the payments prefetch
    with django_assert_max_num_queries(6):
        assert len(api.get(LIST).json()["results"]) == 10


def test_detail_has_everything_staff_need(client, viewer):
    order = paid_card_order()
    record_order_event(order=order, type="order.paid", cause=Cause.webhook("evt_1"), to_status="paid")

    data = as_token(client, viewer).get(f"{LIST}{order.number}/").json()

    assert data["number"] == order.number
    assert data["token"] == order.token
    assert data["lines"][0]["quantity"] == 2
    (payment,) = data["payments"]
    assert payment["intent_id"] == f"pi_paid_{order.pk}"
    assert payment["amount_received"]["amount"] == 10_000
    assert payment["refunds"] == []
    assert data["events"][0]["cause"] == "webhook"
    assert data["events"][0]["cause_reference"] == "evt_1"
    assert data["refundable"]["amount"] == 10_000
    assert data["actions"] == ["refund", "note"]


def test_detail_of_an_unknown_order_is_404(client, viewer):
    assert_problem(as_token(client, viewer).get(f"{LIST}PO-NONE-NONE/"), 404, "not-found")


@pytest.mark.parametrize("number", ["%00", "PO-%00"])
def test_a_nul_in_a_path_is_a_404_not_a_database_error(client, viewer, number):
    assert_problem(as_token(client, viewer).get(f"{LIST}{number}/"), 404)


def test_far_times_and_offsets_postgresql_refuses_are_clamped_and_made_utc(client, viewer):
    make_order()
    api = as_token(client, viewer)
    for value in ("0001-01-01T00:00:00%2B14:00", "0169-09-16T22:49:52%2B07:09", "5481-08-07T09:12:00.39%2B16:05"):
        response = api.get(f"/api/v1/staff/webhook-events/?received_after={value}")
        assert response.status_code == 200, response.content
