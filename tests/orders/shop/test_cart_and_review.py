"""Cart → details → review → order, and every refusal on the way, in the shopper's language."""

import re

import pytest

from orders.errors import InsufficientStock
from orders.models import Order
from orders.shop.messages import shopper_message
from tests.factories import make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea():
    return make_product(
        sku="TEA-SENCHA-100", name="Sencha green tea", name_ja="煎茶", price_amount=1500, stock_on_hand=40
    )


@pytest.fixture
def bowl():
    return make_product(
        sku="BOWL-CHAWAN", name="Raku tea bowl", name_ja="楽焼 茶碗", price_amount=38000, stock_on_hand=3
    )


def _add(client, sku, quantity):
    return client.post("/cart/add/", {"sku": sku, "quantity": str(quantity)})


def _details(client, method="konbini", email="hanako@example.jp", **extra):
    return client.post("/checkout/", {"email": email, "payment_method": method, **extra})


def test_adding_to_the_cart_keeps_it_in_the_session_and_shows_the_lines(ja, tea, bowl):
    assert _add(ja, "TEA-SENCHA-100", 2)["Location"] == "/cart/"
    _add(ja, "TEA-SENCHA-100", 1)
    _add(ja, "BOWL-CHAWAN", 1)
    html = ja.get("/cart/").content.decode()
    assert "煎茶" in html and "楽焼 茶碗" in html
    assert 'value="3"' in html  # 2 + 1 of the tea
    assert "42,500円" in html  # 3 × 1,500 + 38,000, tax included
    assert "合計（税込）" in html


def test_adding_more_than_is_left_is_a_field_error_without_skus_or_counts(ja, en, bowl):
    response = _add(ja, "BOWL-CHAWAN", 5)
    assert response.status_code == 400
    html = response.content.decode()
    assert "この商品は3点までご注文いただけます。" in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_quantity_error"' in html
    assert 'id="id_quantity_error"' in html
    assert "BOWL-CHAWAN (" not in html and "requested" not in html
    english = _add(en, "BOWL-CHAWAN", 5).content.decode()
    assert "You can order up to 3 of this product." in english


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1e3", "100"])
def test_hostile_quantities_are_refused_and_change_nothing(ja, tea, quantity):
    response = ja.post("/cart/add/", {"sku": "TEA-SENCHA-100", "quantity": quantity})
    assert response.status_code == 400
    assert "payops_cart" not in ja.session


def test_adding_an_unknown_product_is_a_404(ja, tea):
    assert _add(ja, "NOPE", 1).status_code == 404


def test_cart_quantities_can_be_changed_and_lines_removed(ja, tea, bowl):
    _add(ja, "TEA-SENCHA-100", 1)
    _add(ja, "BOWL-CHAWAN", 1)
    assert ja.post("/cart/", {"qty_TEA-SENCHA-100": "4", "qty_BOWL-CHAWAN": "1"}).status_code == 302
    assert ja.session["payops_cart"] == {"TEA-SENCHA-100": 4, "BOWL-CHAWAN": 1}
    ja.post("/cart/", {"qty_TEA-SENCHA-100": "0", "qty_BOWL-CHAWAN": "1"})
    assert ja.session["payops_cart"] == {"BOWL-CHAWAN": 1}
    ja.post("/cart/", {"remove": "BOWL-CHAWAN"})
    assert "カートに商品は入っていません。" in ja.get("/cart/").content.decode()


def test_cart_refuses_a_quantity_above_stock_on_the_field(ja, bowl):
    _add(ja, "BOWL-CHAWAN", 1)
    response = ja.post("/cart/", {"qty_BOWL-CHAWAN": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "この商品は3点までご注文いただけます。" in html and 'id="id_qty_BOWL-CHAWAN_error"' in html
    assert ja.session["payops_cart"] == {"BOWL-CHAWAN": 1}


def test_a_cart_larger_than_what_is_left_is_trimmed_with_a_notice_naming_the_product(ja, bowl):
    _add(ja, "BOWL-CHAWAN", 3)
    bowl.stock_reserved = 2  # someone else bought two meanwhile
    bowl.save()
    html = ja.get("/cart/").content.decode()
    assert "「楽焼 茶碗」は現在1点までご注文いただけます。カートの数量を1点に変更しました。" in html
    notices = html[html.index('<div class="messages">') : html.index("</div>", html.index('<div class="messages">'))]
    assert "BOWL-CHAWAN" not in notices
    assert ja.session["payops_cart"] == {"BOWL-CHAWAN": 1}


def test_checkout_needs_a_cart(ja):
    assert ja.get("/checkout/")["Location"] == "/cart/"
    assert ja.get("/checkout/review/")["Location"] == "/cart/"


def test_details_errors_are_translated_and_tied_to_their_fields(ja, en, tea):
    _add(ja, "TEA-SENCHA-100", 1)
    response = ja.post("/checkout/", {"email": "not-an-address"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "hanako@example.jp のような形式でメールアドレスを入力してください。" in html
    assert "お支払い方法を選んでください。" in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html and 'aria-invalid="true"' in html
    assert 'aria-describedby="id_payment_method_error"' in html
    _add(en, "TEA-SENCHA-100", 1)
    english = en.post("/checkout/", {"email": ""}).content.decode()
    assert "Enter your email address." in english and "Choose how you want to pay." in english


def test_shoppers_cannot_choose_a_payment_taken_outside_stripe(ja, tea):
    _add(ja, "TEA-SENCHA-100", 1)
    html = ja.get("/checkout/").content.decode()
    assert 'value="outside"' not in html
    assert _details(ja, method="outside").status_code == 400


def test_review_shows_everything_the_shopper_agrees_to(ja, tea, bowl, settings):
    settings.PAYOPS_KONBINI_EXPIRES_AFTER_DAYS = 3
    _add(ja, "TEA-SENCHA-100", 2)
    _add(ja, "BOWL-CHAWAN", 1)
    assert _details(ja)["Location"] == "/checkout/review/"
    html = ja.get("/checkout/review/").content.decode()
    for expected in ("煎茶", "楽焼 茶碗", "3,000円", "38,000円", "41,000円", "合計（税込）", "送料", "無料"):
        assert expected in html, expected
    assert "コンビニ払い" in html and "3日以内" in html and "hanako@example.jp" in html
    assert "注文を確定する" in html
    assert not Order.objects.exists()  # nothing is placed before the last button


def test_placing_the_order_charges_what_was_reviewed_and_empties_the_cart(ja, tea, fake_stripe):
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(amount=int(r.params["amount"]), status="requires_action", next_action=KONBINI_ACTION),
    )
    _add(ja, "TEA-SENCHA-100", 2)
    _details(ja)
    response = ja.post("/checkout/review/")
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    assert order.total_amount == 3000 and order.locale == "ja" and order.status == "awaiting_payment"
    assert fake_stripe.requests[-1].params["amount"] == "3000"
    assert "payops_cart" not in ja.session
    assert ja.session["payops_checkout_details"] == {"email": "hanako@example.jp"}


def test_review_sends_the_shopper_back_to_the_cart_when_stock_changed(ja, bowl, fake_stripe):
    _add(ja, "BOWL-CHAWAN", 2)
    _details(ja)
    bowl.stock_reserved = 2
    bowl.save()
    response = ja.post("/checkout/review/")
    assert response["Location"] == "/cart/"
    assert not Order.objects.exists() and fake_stripe.requests == []
    assert "「楽焼 茶碗」は現在1点までご注文いただけます。" in ja.get("/cart/").content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", "「楽焼 茶碗」の在庫は残り1点です。 カートの数量を変更してください。"),
        ("en", "Only 1 of “Raku tea bowl” are left. Please change the quantity in your cart."),
    ],
)
def test_a_shortage_at_checkout_names_the_product_not_the_sku(bowl, language, expected):
    from django.utils import translation

    error = InsufficientStock(
        "not enough stock for BOWL-CHAWAN (requested 5, available 1)",
        shortages=[{"sku": "BOWL-CHAWAN", "requested": 5, "available": 1}],
    )
    with translation.override(language):
        message = shopper_message(error, locale=language)
    assert message == expected
    assert "BOWL-CHAWAN" not in message


def test_konbini_for_a_cart_above_its_limit_is_a_field_error_on_the_details_step(ja, en):
    make_product(sku="SET-GIFT", name="Gift set", name_ja="ギフトセット", price_amount=68000, stock_on_hand=10)
    _add(ja, "SET-GIFT", 5)  # 340,000円: above konbini's 300,000円
    response = _details(ja, method="konbini")
    assert response.status_code == 400
    html = response.content.decode()
    assert "コンビニ払いは120円から300,000円までのご注文でご利用いただけます。" in html
    assert 'id="id_payment_method_error"' in html
    assert _details(ja, method="bank_transfer")["Location"] == "/checkout/review/"
    _add(en, "SET-GIFT", 5)
    english = _details(en, method="konbini").content.decode()
    assert "Convenience-store payment is available for orders from ¥120 to ¥300,000" in english


@pytest.mark.parametrize("garbage", [[1, 2], "TEA", {"TEA-SENCHA-100": "5"}, {"TEA-SENCHA-100": -3}, None])
def test_a_cart_session_that_is_not_what_we_wrote_reads_as_empty(ja, tea, garbage):
    session = ja.session
    session["payops_cart"] = garbage
    session.save()
    response = ja.get("/cart/")
    assert response.status_code == 200
    assert "カートに商品は入っていません。" in response.content.decode()


def test_the_shop_page_is_a_fixed_number_of_queries(ja, django_assert_max_num_queries):
    for n in range(12):
        make_product(sku=f"P{n}", name_ja=f"商品{n}", stock_on_hand=n)
    with django_assert_max_num_queries(3):  # session, products
        assert ja.get("/").status_code == 200


def test_the_keyboard_lands_on_the_first_field_in_error_and_the_summary_links_to_each(ja, tea):
    _add(ja, "TEA-SENCHA-100", 1)
    both = ja.post("/checkout/", {"email": "x"}).content.decode()
    assert re.search(r'<input type="email"[^>]* autofocus', both)
    assert '<a href="#id_email">メールアドレス：' in both and '<a href="#method-card">お支払い方法：' in both
    method_only = ja.post("/checkout/", {"email": "hanako@example.jp"}).content.decode()
    assert not re.search(r'<input type="email"[^>]* autofocus', method_only)
    assert re.search(r'id="method-card"[^>]* autofocus', method_only)
