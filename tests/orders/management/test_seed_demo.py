import pytest
from django.core.management import call_command

from orders.models import Product

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue_has_descriptions_in_both_languages_and_stored_pictures():
    call_command("seed_demo", stdout=None)
    products = list(Product.objects.all())
    assert len(products) == 12
    for product in products:
        assert product.description and product.description_ja, product.sku
        assert product.image.name.startswith("products/") and product.image.name.endswith(".svg")
        with product.image.open("rb") as image:
            assert image.read().startswith(b"<svg")


def test_seeding_again_keeps_the_pictures_and_the_stock():
    call_command("seed_demo", stdout=None)
    Product.objects.filter(sku="BOWL-CHAWAN").update(stock_reserved=2)
    before = dict(Product.objects.values_list("sku", "image"))
    call_command("seed_demo", stdout=None)
    assert dict(Product.objects.values_list("sku", "image")) == before
    assert Product.objects.get(sku="BOWL-CHAWAN").stock_reserved == 2
