"""The shopper's history shows what a shopper cares about, in words, with amounts where money
moved; never internals such as fulfilment.requested, refund.requested, staff.approval_decided,
stock.returned or the review hold (issue 14.4)."""

from __future__ import annotations

import pytest
from django.db import transaction

from orders.services.order_events import Cause, record_order_event
from orders.services.transitions import lock_order, move_order
from tests.factories import make_order, make_payment

pytestmark = pytest.mark.django_db

INTERNAL = (
    "fulfilment.requested",
    "refund.requested",
    "staff.approval_decided",
    "stock.returned",
    "payment.review_opened",
    "payment.review_closed",
)


def lived(locale: str):
    """An order that went the whole way, with internal facts in between and a partial refund."""
    order = make_order(status="awaiting_payment", locale=locale)
    make_payment(order, method="konbini", status="succeeded", amount=order.total_amount)
    cause = Cause.system("test")
    steps = [
        ("fact", "order.created", {}),
        ("move", "paid", {"amount_received": 1500}),
        ("fact", "payment.review_opened", {}),
        ("move", "fulfilling", {}),
        ("fact", "fulfilment.requested", {"warehouse": "tokyo-1"}),
        ("move", "awaiting_approval", {"reasons": ["amount_over_threshold"]}),
        ("fact", "staff.approval_decided", {"decision": "approved"}),
        ("move", "fulfilling", {}),
        (
            "move",
            "shipped",
            {"carrier": "Yamato", "tracking_number": "1234-5678", "tracking_url": "https://t.example/1"},
        ),
        ("move", "delivered", {}),
        ("fact", "refund.requested", {"amount": 500}),
        ("fact", "refund.succeeded", {"refund_id": "re_1", "amount": 500}),
        ("move", "partially_refunded", {"amount_refunded": 500}),
        ("fact", "stock.returned", {"reason": "x"}),
    ]
    for what, name, data in steps:
        with transaction.atomic():
            locked = lock_order(order.pk)
            if what == "move":
                move_order(locked, name, cause=cause, data=data)
            else:
                record_order_event(order=locked, type=name, cause=cause, data=data)
    return order


def timeline(client, order) -> str:
    html = client.get(f"/orders/{order.token}/").content.decode()
    return html.split('id="live-timeline"')[1].split("</section>")[0]


def test_the_japanese_timeline_reads_as_the_shoppers_steps_with_amounts(client):
    order = lived("ja")
    shown = timeline(client, order)
    labels = [chunk.split("</strong>")[0] for chunk in shown.split("<strong>")[1:]]
    assert labels == [
        "ご注文を受け付けました",
        "お支払い完了",
        "発送準備中",
        "発送済み",
        "お届け済み",
        "返金しました",
    ]
    assert "1,500円" in shown and "500円" in shown  # paid, and how much came back
    assert "Yamato · 1234-5678" in shown and 'href="https://t.example/1"' in shown
    for internal in INTERNAL:
        assert internal not in shown
    assert "承認" not in shown and "確認中" not in shown  # no approval, no review hold


def test_the_api_timeline_is_the_same_steps_in_english(client):
    order = lived("en")
    steps = client.get(f"/api/v1/orders/{order.token}/").json()["timeline"]
    assert [(s["type"], s["label"], s["detail"]) for s in steps] == [
        ("order.created", "Order placed", "¥1,500"),
        ("order.paid", "Payment received", "¥1,500"),
        ("order.fulfilling", "Preparing your order", ""),
        ("order.shipped", "Shipped", "Yamato · 1234-5678"),
        ("order.delivered", "Delivered", ""),
        ("refund.succeeded", "Refund issued", "¥500"),
    ]


def test_a_partly_refunded_order_says_how_much_came_back(client):
    order = make_order(status="partially_refunded", locale="en")
    make_payment(order, status="succeeded", amount_received=order.total_amount, amount_refunded=500)
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "A refund of ¥500 was issued for this order." in html
