"""What shoppers see of the catalogue: the products on sale and how much of each is left.

The shop pages and the public API both read products through here, so "on sale" and the stock
level shown to shoppers are decided once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import Product


class StockLevel(models.TextChoices):
    # Shoppers see a level, never a count: 9999 e-books "in stock" says nothing useful, and a
    # count invites scraping of the merchant's inventory.
    IN_STOCK = "in_stock", _("In stock")
    LOW = "low", _("Only a few left")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")


def products_on_sale() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("sku")


def product_on_sale(*, sku: str) -> Product | None:
    return products_on_sale().filter(sku=sku).first()


def stock_level(product: Product) -> StockLevel:
    available = product.stock_available
    if available <= 0:
        return StockLevel.OUT_OF_STOCK
    if available <= settings.PAYOPS_LOW_STOCK_THRESHOLD:
        return StockLevel.LOW
    return StockLevel.IN_STOCK


def orderable_quantity(product: Product) -> int:
    """The most units one cart line may hold now: what is available, within the line limit."""
    return max(0, min(product.stock_available, settings.PAYOPS_MAX_LINE_QUANTITY))
