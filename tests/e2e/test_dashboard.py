"""The merchant dashboard in a real browser against a real server: sign in, find an order by
email, refund part of it and see the timeline; a webhook arriving while the list is open
changes the row in place. Screenshots (laptop and tablet, en and ja) go to docs/screenshots
when PAYOPS_SAVE_SCREENSHOTS=1."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.conf import settings
from playwright.sync_api import expect

from orders.models import Order
from payops.simulator.test_cards import payment_method_for_card
from tests.e2e.conftest import in_thread, screenshot
from tests.factories import make_product
from tests.stripe_events import intent_object, sign, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1280, "height": 860}
TABLET = {"width": 820, "height": 1180}
PASSWORD = "clerk-pass-7Qz"


def _make_staff() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel, ensure_staff_groups

    ensure_staff_groups()
    user = get_user_model().objects.create_user("clerk", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel.REFUND]))


@pytest.fixture
def staff():
    in_thread(_make_staff)
    in_thread(make_product, sku="E2E-POT", name="Kyusu teapot", name_ja="急須", price_amount=4800, stock_on_hand=40)


@pytest.fixture
def desk(browser, payops_server):
    """A browser context of its own: laptop size, English first."""
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    yield page
    context.close()


def _checkout(server, *, email: str, method: str, card: str | None = None) -> dict:
    body = {"items": [{"sku": "E2E-POT", "quantity": 2}], "email": email, "payment_method": method, "locale": "ja"}
    if card:
        body["payment_method_id"] = payment_method_for_card(card)
    response = requests.post(f"{server.url}/api/v1/checkout/", json=body, timeout=20)
    assert response.status_code == 201, response.text
    return response.json()


def _wait_for_status(number: str, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if in_thread(lambda: Order.objects.get(number=number).status) == status:
            return
        time.sleep(0.2)
    raise AssertionError(f"order {number} never became {status}")


def _sign_in(page, server) -> None:
    page.goto(f"{server.url}/dashboard/")
    expect(page).to_have_url(f"{server.url}/login/?next=/dashboard/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_sign_in_find_by_email_refund_part_and_see_the_timeline(desk, payops_server, staff):
    page = desk
    created = _checkout(payops_server, email="refund-me@example.com", method="card", card="4242424242424242")
    number = created["order"]["number"]
    _wait_for_status(number, "paid")
    _checkout(payops_server, email="someone-else@example.com", method="konbini")

    _sign_in(page, payops_server)
    screenshot(page, "dashboard-overview")
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Orders").click()
    page.get_by_label("Search").fill("refund-me@example.com")
    page.get_by_label("Search").press("Enter")
    rows = page.locator("#orders-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(number)
    screenshot(page, "dashboard-orders-search")
    page.get_by_role("link", name=number).click()

    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    refund = page.locator("#action-refund")
    refund.get_by_label("Amount").fill("2000")
    refund.get_by_label("Reason").fill("Lid chipped in delivery")
    refund.get_by_role("button", name="Continue").click()
    expect(page.locator("#panel-refund .question")).to_contain_text(f"Refund ¥2,000 of order {number}")
    screenshot(page, "dashboard-refund-confirm")
    page.locator("#panel-refund").get_by_role("button", name="Yes, do it").click()

    expect(page.locator(".messages")).to_contain_text("Refunded ¥2,000.")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "partially_refunded")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Refund ¥2,000")
    expect(timeline).to_contain_text("Lid chipped in delivery")
    expect(timeline.locator("li").filter(has_text="Refund requested")).to_contain_text("clerk")
    expect(page.locator("#order-head")).to_contain_text("Refundable ¥7,600")

    # Live: what a colleague does to the order, in another browser, appears here without a reload.
    page.evaluate("window.__notReloaded = true")
    colleague_context = page.context.browser.new_context(viewport=LAPTOP, locale="en-US")
    colleague = colleague_context.new_page()
    try:
        _sign_in(colleague, payops_server)
        colleague.goto(f"{payops_server.url}/dashboard/orders/{number}/")
        note = colleague.locator("#action-note")
        note.locator("summary").click()
        note.get_by_label("Note").fill("Replacement lid posted")
        note.get_by_role("button", name="Continue").click()
        note.get_by_role("button", name="Yes, do it").click()
        expect(colleague.locator(".messages")).to_contain_text("Note added.")
    finally:
        colleague_context.close()
    expect(timeline).to_contain_text("Replacement lid posted")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "dashboard-order-detail")

    page.set_viewport_size(TABLET)
    screenshot(page, "dashboard-order-detail-tablet")


def test_a_webhook_arriving_while_the_list_is_open_updates_the_row(desk, payops_server, staff):
    page = desk
    created = _checkout(payops_server, email="konbini-payer@example.com", method="konbini")
    number, payment = created["order"]["number"], created["payment"]
    _sign_in(page, payops_server)
    page.goto(f"{payops_server.url}/dashboard/orders/?method=konbini")
    row = page.locator(f'#orders-table tr[data-number="{number}"]')
    expect(row.locator('[data-role="status"]')).to_have_text("Awaiting payment")
    expect(page.locator("#dash")).to_have_attribute("data-live", "connected")
    page.evaluate("window.__notReloaded = true")
    awaiting = int(page.locator('#counts [data-count="awaiting_payment"]').inner_text())

    order_id = in_thread(lambda: Order.objects.get(number=number).pk)
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(payment["id"], status="succeeded", amount=created["order"]["total"]["amount"], order_id=order_id),
    )
    body = json.dumps(event).encode()
    response = requests.post(
        f"{payops_server.url}/webhooks/stripe/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRETS[0]),
        },
        timeout=20,
    )
    assert response.status_code == 200

    expect(row).to_have_attribute("data-status", "paid")
    expect(row.locator('[data-role="status"]')).to_have_text("Paid")
    expect(page.locator('#counts [data-count="awaiting_payment"]')).to_have_text(str(awaiting - 1))
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "dashboard-orders-live")
    page.set_viewport_size(TABLET)
    screenshot(page, "dashboard-orders-tablet")


def test_japanese_dashboard(browser, payops_server, staff):
    created = _checkout(payops_server, email="ja-shopper@example.com", method="konbini")
    context = browser.new_context(viewport=LAPTOP, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(f"{payops_server.url}/login/")
        page.get_by_label("ユーザー名").fill("clerk")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="サインイン").click()
        expect(page.get_by_role("heading", name="概要")).to_be_visible()
        page.goto(f"{payops_server.url}/dashboard/orders/?q=ja-shopper@example.com")
        expect(page.locator("#orders-table")).to_contain_text("お支払い待ち")
        expect(page.locator("#orders-table")).to_contain_text("コンビニ")
        expect(page.get_by_label("終了日")).to_be_visible()
        screenshot(page, "dashboard-orders-ja")
        page.goto(f"{payops_server.url}/dashboard/orders/{created['order']['number']}/")
        expect(page.get_by_role("heading", name="履歴")).to_be_visible()
        screenshot(page, "dashboard-order-detail-ja")
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    finally:
        context.close()
