"""The orders list: filters, search, sorting, cursor pages, counts, CSV, and a constant number
of queries per page whatever the number of rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order
from tests.factories import make_order, make_payment, make_product

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    html = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in html.split('data-number="')[1:]]


@pytest.fixture
def shop(db):
    product = make_product(price_amount=1000, stock_on_hand=1000)
    orders = []
    for n, (status, method, email, quantity) in enumerate(
        [
            ("paid", "card", "a@example.com", 1),
            ("awaiting_payment", "konbini", "b@example.com", 2),
            ("awaiting_payment", "bank_transfer", "c@example.com", 3),
            ("payment_failed", "card", "a@example.com", 4),
            ("shipped", "konbini", "d@example.com", 5),
        ]
    ):
        order = make_order(status=status, product=product, quantity=quantity, email=email)
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(days=n))
        make_payment(order, intent_id=f"pi_list_{n}", method=method)
        orders.append(order)
    return orders


def test_filters_search_and_sort(as_user, shop):
    client = as_user("view")
    get = lambda query: numbers(client.get("/dashboard/orders/?" + query))  # noqa: E731
    o = [order.number for order in shop]
    assert get("") == o  # newest first
    assert get("sort=oldest") == o[::-1]
    assert get("sort=amount_desc") == [o[4], o[3], o[2], o[1], o[0]]
    assert get("status=awaiting_payment") == [o[1], o[2]]
    assert get("method=konbini") == [o[1], o[4]]
    assert get("q=A@Example.com") == [o[0], o[3]]
    assert get("q=pi_list_2") == [o[2]]
    assert get(f"q={o[3]}") == [o[3]]
    assert get(f"q={o[3][:6].lower()}") == [x for x in o if x.startswith(o[3][:6])]
    assert get("amount_min=2000&amount_max=3000") == [o[1], o[2]]
    day = timezone.localdate() - dt.timedelta(days=2)
    assert get(f"created_from={day}&created_to={day}") == [o[2]]


def test_a_bad_filter_is_shown_and_ignored(as_user, shop):
    response = as_user("view").get("/dashboard/orders/?created_from=2026-05-02&created_to=2026-05-01&amount_min=abc")
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_cursor_pages_walk_forward_and_back_without_gaps(as_user, shop, monkeypatch):
    monkeypatch.setattr("orders.dashboard.order_list.PAGE_SIZE", 2)
    from orders.dashboard import order_list

    monkeypatch.setattr(order_list.orders_page, "__kwdefaults__", {"size": 2})
    client = as_user("view")
    seen, url = [], "/dashboard/orders/"
    pages = []
    while url:
        response = client.get(url)
        pages.append(response)
        seen += numbers(response)
        html = response.content.decode()
        url = (
            "/dashboard/orders/"
            + html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            if 'rel="next"' in html
            else None
        )
    assert seen == [order.number for order in shop]
    last = pages[-1].content.decode()
    prev = "/dashboard/orders/" + last.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert numbers(client.get(prev)) == seen[2:4]
    assert client.get("/dashboard/orders/?cursor=forged").status_code == 200  # back to the first page


def test_counts_per_status_follow_the_other_filters(as_user, shop):
    client = as_user("view")
    html = client.get("/dashboard/orders/counts/").content.decode()
    assert 'data-count="awaiting_payment">2<' in html and 'data-count="all">5<' in html
    html = client.get("/dashboard/orders/counts/?method=card").content.decode()
    assert 'data-count="all">2<' in html and 'data-count="payment_failed">1<' in html


def test_csv_export_streams_the_filtered_set(as_user, shop):
    response = as_user("view").get("/dashboard/orders/export.csv?q=a@example.com")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r["number"] for r in rows] == [shop[0].number, shop[3].number]
    assert rows[0]["payment_method"] == "card" and rows[0]["total"] == "1000"


def test_csv_opens_in_excel_as_utf8_with_times_in_jst(as_user):
    """Excel reads a UTF-8 file without a byte-order mark as Shift_JIS; the dashboard shows JST,
    so the export does too (issue 14.14)."""
    order = make_order(email="a@example.com")
    Order.objects.filter(pk=order.pk).update(created_at=dt.datetime(2026, 12, 5, 14, 59, 30, tzinfo=dt.UTC))
    body = b"".join(as_user("view").get("/dashboard/orders/export.csv").streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    row = next(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert row["created_at"] == "2026-12-05T23:59:30+09:00"


def test_csv_cells_cannot_start_a_formula(as_user):
    make_order(email="=cmd@example.com")
    response = as_user("view").get("/dashboard/orders/export.csv")
    assert "'=cmd@example.com" in b"".join(response.streaming_content).decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_queries_for_few_and_many_orders(as_user, shop):
    client = as_user("view")
    few = _queries(client, "/dashboard/orders/")
    product = make_product(stock_on_hand=1000)
    for _ in range(60):
        order = make_order(product=product, email="many@example.com")
        make_payment(order, intent_id=None)
    assert _queries(client, "/dashboard/orders/") == few
    assert _queries(client, "/dashboard/orders/?status=pending_payment&method=card&q=many@example.com") == few
    assert few <= 6, few


def test_the_detail_costs_the_same_queries_for_a_long_history(as_user, paid_order, stripe):
    from tests.dashboard.test_actions import act

    client = as_user("refund")
    url = f"/dashboard/orders/{paid_order.number}/"
    short = _queries(client, url)
    for n in range(5):
        act(client, f"{url}actions/refund/", {"amount": "100", "reason": f"part {n}"})
        act(client, f"{url}actions/note/", {"text": f"note {n}"})
    assert _queries(client, url) == short
