"""The shopper's order-status page updates itself: in a real browser, against a real server."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from orders.models import Order
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_paid
from tests.e2e.conftest import in_thread, screenshot
from tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def _checkout(payops_server, *, method: str, sku: str = "E2E-TEA", quantity: int = 2) -> dict:
    in_thread(make_product, sku=sku, name="Sencha", name_ja="煎茶", price_amount=1500, stock_on_hand=50)
    response = requests.post(
        f"{payops_server.url}/api/v1/checkout/",
        json={
            "items": [{"sku": sku, "quantity": quantity}],
            "email": "e2e@example.com",
            "payment_method": method,
            "locale": "ja",
        },
        timeout=20,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _pay_voucher_at_the_simulator(server, intent_id: str) -> None:
    session = requests.Session()
    dashboard = session.get(f"{server.url}/simulator/", timeout=20)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', dashboard.text).group(1)
    response = session.post(
        f"{server.url}/simulator/vouchers/{intent_id}/pay/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{server.url}/simulator/"},
        timeout=20,
    )
    assert response.status_code == 200, response.status_code


def _open_live(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#order")).to_have_attribute("data-live", "connected")
    # A marker that a reload would wipe out: the test proves the page changed in place.
    page.evaluate("window.__notReloaded = true")


def test_konbini_page_shows_paid_without_reload_when_the_webhook_arrives(page, payops_server, real_worker):
    created = _checkout(payops_server, method="konbini")
    order, payment = created["order"], created["payment"]
    _open_live(page, order["status_url"])
    expect(page.locator("#order-status")).to_have_text("お支払い待ち")
    expect(page.locator(".voucher")).to_contain_text("お支払い番号")
    expect(page.locator(".countdown")).to_contain_text("残り")
    screenshot(page, "order-konbini-awaiting-payment")

    # The shopper pays at the store: the simulator (payops's test-mode Stripe) marks the intent
    # paid and posts a signed payment_intent.succeeded to /webhooks/stripe/, as Stripe would.
    _pay_voucher_at_the_simulator(payops_server, payment["id"])

    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#order-status")).to_have_text("お支払い済み")
    expect(page.locator("#live-next-step")).to_contain_text("お支払いを確認しました")
    expect(page.locator("#live-timeline")).to_contain_text("お支払い完了")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "order-paid")


def test_page_reconnects_after_the_server_drops_the_socket_and_shows_what_changed(page, payops_server):
    created = _checkout(payops_server, method="bank_transfer", sku="E2E-POT", quantity=1)
    order = created["order"]
    _open_live(page, order["status_url"])
    expect(page.locator("#amount-remaining")).to_have_text("1,500円")
    screenshot(page, "order-bank-transfer-awaiting-payment")

    # The server goes away (a deploy); while it is down the order is paid.
    payops_server.stop()
    expect(page.locator("#order")).to_have_attribute("data-live", "disconnected")
    expect(page.locator("#connection")).to_be_visible()
    order_id = in_thread(lambda: Order.objects.get(number=order["number"]).pk)
    in_thread(order_mark_paid, order_id=order_id, cause=Cause.system("e2e"))
    payops_server.start()

    # The page reconnects by itself and re-reads the state it missed.
    expect(page.locator("#order")).to_have_attribute("data-live", "connected", timeout=30_000)
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#connection")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "order-paid-after-reconnect")


def test_unknown_token_page_is_a_bare_404(page, payops_server):
    response = page.goto(f"{payops_server.url}/orders/{'A' * 32}/")
    assert response.status == 404
    assert "PO-" not in page.content()
