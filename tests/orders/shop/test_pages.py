"""The storefront's pages in both languages: translated, 税込, stock as words, never SKUs or counts."""

import re

import pytest

from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return {
        "tea": make_product(
            sku="TEA-SENCHA-100",
            name="Sencha green tea",
            name_ja="煎茶",
            description="Fresh and grassy.",
            description_ja="みずみずしい香りの煎茶です。",
            price_amount=1500,
            stock_on_hand=40,
        ),
        "bowl": make_product(
            sku="BOWL-CHAWAN", name="Raku tea bowl", name_ja="楽焼 茶碗", price_amount=38000, stock_on_hand=3
        ),
        "ebook": make_product(sku="BOOK", name="Tea e-book", name_ja="電子書籍", price_amount=980, stock_on_hand=9999),
        "gone": make_product(sku="GONE", name="Sold-out whisk", name_ja="茶筅", stock_on_hand=2, stock_reserved=2),
        "retired": make_product(sku="OLD", name="Retired cup", name_ja="旧湯呑み", is_active=False),
    }


def _text(response) -> str:
    return response.content.decode()


def test_shop_in_japanese_shows_names_descriptions_tax_inclusive_prices_and_stock_words(ja, catalogue):
    html = _text(ja.get("/"))
    assert '<html lang="ja">' in html
    assert "煎茶" in html and "みずみずしい香りの煎茶です。" in html
    assert "1,500円" in html and "（税込）" in html
    assert "在庫あり" in html and "残りわずか" in html and "在庫切れ" in html
    assert "9999" not in html and "9,999" not in html
    assert "旧湯呑み" not in html
    # The whole page is Japanese: none of the old English-only labels
    for english in ("Demo shop", "Products", "In stock", "Quantity", "Place order"):
        assert english not in html


def test_shop_in_english(en, catalogue):
    html = _text(en.get("/"))
    assert '<html lang="en">' in html
    assert "Sencha green tea" in html and "Fresh and grassy." in html
    assert "¥1,500" in html and "(tax incl.)" in html
    assert "In stock" in html and "Only a few left" in html and "Out of stock" in html
    assert "9999" not in html


def test_every_page_has_the_language_switch(ja, catalogue):
    for path in ("/", "/products/TEA-SENCHA-100/", "/cart/"):
        html = _text(ja.get(path))
        assert 'action="/i18n/setlang/"' in html, path
        assert 'value="en" lang="en"' in html and 'value="ja" lang="ja"' in html


def test_language_switch_changes_the_shop_language(ja, catalogue):
    response = ja.post("/i18n/setlang/", {"language": "en", "next": "/products/TEA-SENCHA-100/"})
    assert response.status_code == 302 and response["Location"] == "/products/TEA-SENCHA-100/"
    assert "Sencha green tea" in _text(ja.get("/products/TEA-SENCHA-100/"))


def test_product_page_in_both_languages(ja, en, catalogue):
    ja_html = _text(ja.get("/products/TEA-SENCHA-100/"))
    assert (
        "<h1>煎茶</h1>" in ja_html
        and "カートに入れる" in ja_html
        and '<label for="id_quantity">数量</label>' in ja_html
    )
    en_html = _text(en.get("/products/TEA-SENCHA-100/"))
    assert "<h1>Sencha green tea</h1>" in en_html and "Add to cart" in en_html


def test_sold_out_product_page_offers_no_form(ja, catalogue):
    html = _text(ja.get("/products/GONE/"))
    assert "在庫切れ" in html and "カートに入れる" not in html


@pytest.mark.parametrize("sku", ["OLD", "NOPE", "..%2F..%2Fadmin"])
def test_unknown_or_retired_product_is_a_404(ja, catalogue, sku):
    assert ja.get(f"/products/{sku}/").status_code == 404


def test_product_images_are_served_from_storage(ja, catalogue):
    from orders.services.product_images import product_set_image

    product_set_image(
        product_id=catalogue["tea"].pk, filename="tea.svg", content=b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    )
    html = _text(ja.get("/"))
    url = re.search(r'src="(/media/products/tea[^"]*\.svg)"', html).group(1)
    image = ja.get(url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content).startswith(b"<svg")


@pytest.mark.parametrize("path", ["/media/../payops/settings.py", "/media/products/x.py", "/media/nothing.svg"])
def test_media_serves_only_stored_images(ja, path):
    assert ja.get(path).status_code == 404
