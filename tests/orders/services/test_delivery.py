"""Shipped is not delivered (issue 14.5): staff confirm a delivery, or it is assumed the
configured number of days after shipping; never the moment the parcel leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders.errors import ActionNotAllowed
from orders.models import Shipment
from orders.services.fulfilment import order_mark_delivered, order_mark_shipped, orders_mark_delivered_due
from orders.services.order_events import Cause
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def shipped(days_ago: float):
    order = make_order(status="fulfilling")
    order_mark_shipped(order_id=order.pk, cause=Cause.system("test"), carrier="Yamato", tracking_number="1234-5678")
    Shipment.objects.filter(order=order).update(shipped_at=timezone.now() - dt.timedelta(days=days_ago))
    order.refresh_from_db()
    return order


def test_shipping_leaves_the_order_shipped():
    assert shipped(0).status == "shipped"


def test_staff_confirm_a_delivery_once():
    order = shipped(1)
    order_mark_delivered(order_id=order.pk, cause=Cause.system("staff"))
    order_mark_delivered(order_id=order.pk, cause=Cause.system("staff"))  # a repeat changes nothing
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.events.filter(type="order.delivered").count() == 1


def test_an_unshipped_order_cannot_be_delivered():
    order = make_order(status="fulfilling")
    with pytest.raises(ActionNotAllowed, match="cannot mark as delivered"):
        order_mark_delivered(order_id=order.pk, cause=Cause.system("staff"))


def test_the_sweep_assumes_delivery_after_the_configured_days(settings):
    settings.PAYOPS_DELIVERED_AFTER_DAYS = 5
    old, recent = shipped(5.1), shipped(4.9)
    assert orders_mark_delivered_due() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == ("delivered", "shipped")
    assert old.events.get(type="order.delivered").data == {"assumed_after_days": 5}


def test_zero_days_means_only_staff_confirm(settings):
    settings.PAYOPS_DELIVERED_AFTER_DAYS = 0
    order = shipped(365)
    assert orders_mark_delivered_due() == 0
    order.refresh_from_db()
    assert order.status == "shipped"


@pytest.mark.parametrize(
    ("locale", "words"),
    [("ja", ("発送済み", "配送業者", "追跡番号")), ("en", ("Shipped", "Carrier", "Tracking number"))],
)
def test_the_status_page_shows_the_carrier_and_a_tracking_link(client, locale, words):
    order = make_order(status="fulfilling", locale=locale)
    order_mark_shipped(
        order_id=order.pk,
        cause=Cause.system("test"),
        carrier="Yamato",
        tracking_number="1234-5678",
        tracking_url="https://track.example/1234-5678",
    )
    html = client.get(f"/orders/{order.token}/").content.decode()
    step = html.split('id="live-next-step"')[1].split("</section>")[0]
    for word in words:
        assert word in html
    assert "Yamato" in step and '<a href="https://track.example/1234-5678"' in step and "1234-5678</a>" in step


def test_a_delivered_order_says_so_on_its_page(client):
    order = shipped(1)
    order_mark_delivered(order_id=order.pk, cause=Cause.system("staff"))
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert 'data-status="delivered"' in html and "ご注文の商品をお届けしました。" in html


def test_staff_confirm_delivery_on_the_dashboard_and_the_api_offers_the_same(client, django_user_model):
    from django.contrib.auth.models import Group

    from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel
    from tests.dashboard.conftest import key

    user = django_user_model.objects.create_user("deliverer", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel.OPERATE]))
    client.force_login(user)
    order = shipped(1)
    html = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert 'id="action-deliver"' in html
    url = f"/dashboard/orders/{order.number}/actions/deliver/"
    client.post(url, {"request_key": key(), "confirm": "on"})
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.events.filter(type="staff.delivery_confirmed").count() == 1
    html = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert 'id="action-deliver"' not in html  # nothing left to confirm
