"""The storefront end to end in a real browser, in Japanese and in English: the product list with
pictures, a product page, the cart, the details and review steps, the order placed through the
payment simulator, and a declined card paid again another way on the same order."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from orders.models import Order
from tests.e2e.conftest import in_thread, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, LAPTOP = 390, 1280

WORDS = {
    "ja": {
        "in_stock": "在庫あり",
        "low": "残りわずか",
        "add": "カートに入れる",
        "added": "「抹茶 30g」をカートに入れました。",
        "checkout": "ご購入手続きへ",
        "email": "メールアドレス",
        "konbini": "コンビニ払い",
        "card": "クレジットカード",
        "continue": "ご注文内容の確認へ",
        "place": "注文を確定する",
        "total": "9,000円",
        "pay_again": "別の方法で支払う",
        "pay_with": "この方法で支払う",
        "awaiting": "お支払い待ち",
        "email_error": "メールアドレスを入力してください。",
    },
    "en": {
        "in_stock": "In stock",
        "low": "Only a few left",
        "add": "Add to cart",
        "added": "“Ceremonial matcha 30 g” was added to your cart.",
        "checkout": "Proceed to checkout",
        "email": "Email address",
        "konbini": "Convenience store (konbini)",
        "card": "Credit card",
        "continue": "Continue to review",
        "place": "Place order",
        "total": "¥9,000",
        "pay_again": "Pay another way",
        "pay_with": "Pay with this method",
        "awaiting": "Awaiting payment",
        "email_error": "Enter your email address.",
    },
}


@pytest.fixture
def catalogue():
    """The demo catalogue as `./dev up` seeds it: twelve products with their pictures."""
    in_thread(call_command, "seed_demo", stdout=io.StringIO())


def _choose_language(page, server, language: str) -> None:
    page.goto(f"{server.url}/")
    if page.locator("html").get_attribute("lang") != language:
        page.locator(f".language-switch button[value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def _at_both_widths(page, name: str) -> None:
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        screenshot(page, f"{name}-{'phone' if width == PHONE else 'laptop'}")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_shopper_buys_through_the_storefront(page, payops_server, catalogue, language):
    words = WORDS[language]
    _choose_language(page, payops_server, language)

    # The list: pictures, prices with tax, stock as words
    cards = page.locator(".product-card")
    expect(cards).to_have_count(12)
    expect(page.locator(".product-card img").first).to_have_js_property("complete", True)
    assert page.evaluate("[...document.images].every(i => i.naturalWidth > 0)")
    expect(page.get_by_text(words["low"]).first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("9999")
    _at_both_widths(page, f"shop-{language}")

    # A product page, reached by keyboard
    page.locator(".product-link").filter(has_text="30").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/products/TEA-MATCHA-30/$"))
    expect(page.get_by_text(words["in_stock"])).to_be_visible()
    page.get_by_label(re.compile("数量|Quantity")).fill("2")
    _at_both_widths(page, f"product-{language}")
    page.get_by_role("button", name=words["add"]).click()

    # The cart
    expect(page.get_by_role("status").filter(has_text=words["added"])).to_be_visible()
    page.goto(f"{payops_server.url}/products/WHISK-CHASEN/")
    page.get_by_role("button", name=words["add"]).click()
    expect(page.locator("#cart-total")).to_have_text(words["total"])  # 2 × 3,200 + 2,600, tax incl.
    _at_both_widths(page, f"cart-{language}")
    page.get_by_role("link", name=words["checkout"]).click()

    # Details: an empty e-mail is an error tied to its field
    page.get_by_label(words["konbini"]).check()
    page.get_by_role("button", name=words["continue"]).click()
    email = page.get_by_label(words["email"])
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_email_error")).to_have_text(words["email_error"])
    email.fill("hanako@example.jp")
    _at_both_widths(page, f"checkout-{language}")
    page.get_by_role("button", name=words["continue"]).click()

    # Review: everything on one screen, then the order
    expect(page.locator("#order-total")).to_have_text(words["total"])
    expect(page.locator("#review-method")).to_have_text(words["konbini"])
    expect(page.locator("#review-email")).to_have_text("hanako@example.jp")
    _at_both_widths(page, f"review-{language}")
    page.get_by_role("button", name=words["place"]).click()

    expect(page).to_have_url(re.compile(r"/orders/[A-Za-z0-9_-]+/$"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_payment")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{payops_server.url}/cart/")
    expect(page.locator("#cart-total")).to_have_count(0)  # the cart became the order


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_declined_card_is_paid_again_by_konbini_on_the_same_order(page, payops_server, catalogue, language):
    words = WORDS[language]
    _choose_language(page, payops_server, language)
    page.goto(f"{payops_server.url}/products/BOWL-CHAWAN/")
    page.get_by_role("button", name=words["add"]).click()
    page.get_by_role("link", name=words["checkout"]).click()
    page.get_by_label(words["email"]).fill("hanako@example.jp")
    page.get_by_label(words["card"]).check()
    page.locator("input[name=test_card][value='pm_card_chargeDeclined']").check()
    page.get_by_role("button", name=words["continue"]).click()
    page.get_by_role("button", name=words["place"]).click()

    expect(page.locator("#order-status")).to_have_attribute("data-status", "payment_failed")
    order_url = page.url
    pay_again = page.locator("#pay-again")
    expect(pay_again.get_by_role("heading", name=words["pay_again"])).to_be_visible()
    _at_both_widths(page, f"order-pay-again-{language}")
    pay_again.get_by_label(words["konbini"]).check()
    pay_again.get_by_role("button", name=words["pay_with"]).click()

    expect(page).to_have_url(order_url)  # the same order
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_payment")
    expect(page.locator("#order-status")).to_have_text(words["awaiting"])
    methods = in_thread(_payment_methods_of_the_only_order)
    assert methods == ["card", "konbini"]  # one order, paid again another way


def _payment_methods_of_the_only_order() -> list[str]:
    order = Order.objects.get()
    return list(order.payments.order_by("pk").values_list("method", flat=True))
