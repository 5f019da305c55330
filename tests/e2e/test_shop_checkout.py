"""The demo shop end to end in a real browser: checkout, 3-D Secure and bank transfer through the
payment simulator, whose signed webhooks travel the real path back into payops."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import in_thread, screenshot
from tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue():
    in_thread(make_product, sku="TEA", name="Sencha green tea", name_ja="煎茶", price_amount=1500, stock_on_hand=10)
    in_thread(make_product, sku="POT", name="Kyusu teapot", name_ja="急須", price_amount=12800, stock_on_hand=2)


def _place_order(page, server, *, method: str, locale: str = "ja", card: str | None = None) -> None:
    """Through the storefront: product page, cart, details, review, place the order."""
    page.goto(f"{server.url}/")
    current = page.locator("html").get_attribute("lang")
    if current != locale:
        page.locator(f".language-switch button[value={locale}]").click()
    page.goto(f"{server.url}/products/TEA/")
    page.locator("#id_quantity").fill("2")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator("a[href='/checkout/']").click()
    page.locator("#id_email").fill("shopper@example.com")
    page.locator(f"#method-{method}").check()
    if card:
        page.locator(f"input[name=test_card][value='{card}']").check()
    page.locator("form.checkout button[type=submit]").click()
    page.locator("form.place-order button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/orders/[A-Za-z0-9_-]+/"))


def test_card_with_3d_secure_ends_paid(page, payops_server, catalogue):
    page.set_viewport_size({"width": 1000, "height": 1200})
    _place_order(page, payops_server, method="card", locale="en", card="pm_card_authenticationRequired")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_payment")
    screenshot(page, "order-card-3ds-pending")

    page.get_by_role("link", name="Continue to 3-D Secure").click()
    screenshot(page, "simulator-3ds")
    page.get_by_role("button", name="Complete authentication").click()

    # Back on the status page; the simulator's signed webhook makes it paid (live, or on load).
    expect(page).to_have_url(re.compile(r"/orders/[A-Za-z0-9_-]+/"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#order-status")).to_have_text("Paid")


def test_declined_card_shows_the_reason(page, payops_server, catalogue):
    _place_order(page, payops_server, method="card", locale="en", card="pm_card_chargeDeclined")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "payment_failed")
    expect(page.locator("#live-next-step")).to_contain_text("declined")
    screenshot(page, "order-payment-failed")


def test_bank_transfer_partial_then_full_funding_updates_the_open_page(page, payops_server, catalogue):
    _place_order(page, payops_server, method="bank_transfer")
    expect(page.locator("#order")).to_have_attribute("data-live", "connected")
    expect(page.locator("#amount-remaining")).to_have_text("3,000円")

    simulator = page.context.new_page()
    simulator.goto(f"{payops_server.url}/simulator/")
    simulator.locator("input[name=amount]").first.fill("1000")
    simulator.get_by_role("button", name="Fund partially").first.click()

    expect(page.locator("#amount-remaining")).to_have_text("2,000円")
    expect(page.locator("#live-timeline")).to_contain_text("お振込みの一部を確認しました")
    screenshot(page, "order-bank-transfer-partially-funded")

    simulator.goto(f"{payops_server.url}/simulator/")
    simulator.get_by_role("button", name="Fund fully").first.click()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
