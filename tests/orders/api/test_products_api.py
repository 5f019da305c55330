import pytest

from tests.api.fixtures import assert_problem
from tests.factories import make_order, make_product

pytestmark = pytest.mark.django_db


def test_list_shows_active_products_with_price_and_availability(anon):
    tea = make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    make_order(product=tea, quantity=2)  # reserves 2
    make_product(sku="OLD", is_active=False)

    response = anon.get("/api/v1/products/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    products = response.json()["results"]
    assert [p["sku"] for p in products] == ["TEA"]
    assert products[0]["price"] == {"amount": 1500, "currency": "JPY", "display": "¥1,500"}
    assert products[0]["available"] == 3
    assert products[0]["in_stock"] is True


def test_list_is_one_query(anon, django_assert_num_queries):
    for n in range(5):
        make_product(sku=f"P{n}")
    with django_assert_num_queries(1):
        assert anon.get("/api/v1/products/").status_code == 200


def test_detail_shows_availability_now(anon):
    make_product(sku="CUP", stock_on_hand=2, stock_reserved=2)
    product = anon.get("/api/v1/products/CUP/").json()
    assert product["sku"] == "CUP"
    assert product["available"] == 0
    assert product["in_stock"] is False


@pytest.mark.parametrize("sku", ["NOPE", "OLD"])
def test_unknown_or_inactive_product_is_a_404_problem(anon, sku):
    make_product(sku="OLD", is_active=False)
    assert_problem(anon.get(f"/api/v1/products/{sku}/"), 404, "not-found")


def test_writing_to_the_catalogue_is_not_allowed(anon):
    response = anon.post("/api/v1/products/", {"sku": "X"})
    problem = assert_problem(response, 405, "method-not-allowed")
    assert "POST" in problem["detail"]
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_an_invalid_token_is_refused_even_on_public_endpoints(anon):
    response = anon.get("/api/v1/products/", HTTP_AUTHORIZATION="Bearer pyo_not-a-real-token")
    assert_problem(response, 401, "authentication-failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_is_welcome_on_public_endpoints(anon, viewer):
    from tests.api.fixtures import bearer

    assert anon.get("/api/v1/products/", **bearer(viewer)).status_code == 200


def test_products_carry_descriptions_a_picture_and_a_stock_level_not_just_a_count(anon, settings):
    from orders.services.product_images import product_set_image

    settings.PAYOPS_LOW_STOCK_THRESHOLD = 5
    tea = make_product(sku="TEA", description="Fresh.", description_ja="爽やか。", stock_on_hand=9999)
    make_product(sku="BOWL", stock_on_hand=3)
    make_product(sku="GONE", stock_on_hand=0)
    product_set_image(product_id=tea.pk, filename="tea.svg", content=b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    products = {p["sku"]: p for p in anon.get("/api/v1/products/").json()["results"]}

    assert products["TEA"]["description"] == "Fresh." and products["TEA"]["description_ja"] == "爽やか。"
    assert products["TEA"]["image_url"].startswith("http://testserver/media/products/tea")
    assert products["BOWL"]["image_url"] is None
    assert {sku: p["stock_level"] for sku, p in products.items()} == {
        "TEA": "in_stock",
        "BOWL": "low",
        "GONE": "out_of_stock",
    }
    assert anon.get(products["TEA"]["image_url"].removeprefix("http://testserver")).status_code == 200
