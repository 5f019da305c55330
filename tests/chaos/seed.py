"""The catalogue of the chaos suite's database (run by tests/chaos/stack.py through manage.py shell)."""

from orders.models import Product

# Plenty of stock: the suite is about faults, not about selling out.
PRODUCTS = {"CHAOS-TEA": 1500, "CHAOS-POT": 12800}


def seed() -> None:
    for sku, price in PRODUCTS.items():
        Product.objects.create(sku=sku, name=sku.title(), price_amount=price, currency="JPY", stock_on_hand=100_000)
