from django.db import models
from django.db.models import F, Q

from payops.money import Money


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    name_ja = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="A short description in English.")
    description_ja = models.TextField(blank=True, help_text="A short description in Japanese.")
    # Stored through Django's storage API (MEDIA_ROOT in the embedded profile), never a URL typed in.
    image = models.FileField(upload_to="products/", blank=True)
    price_amount = models.BigIntegerField(help_text="Unit price in the currency's minor units.")
    currency = models.CharField(max_length=3, default="JPY")
    # On hand is what the warehouse holds; reserved is promised to orders not yet shipped.
    # Available = on hand - reserved, and the constraints below keep it from going negative.
    stock_on_hand = models.PositiveIntegerField(default=0)
    stock_reserved = models.PositiveIntegerField(default=0)
    is_digital = models.BooleanField(default=False, help_text="Digital goods skip shipment.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_reserved__lte=F("stock_on_hand")), name="product_reserved_lte_on_hand"
            ),
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def stock_available(self) -> int:
        return self.stock_on_hand - self.stock_reserved

    def display_name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" and self.name_ja else self.name

    def display_description(self, locale: str) -> str:
        return self.description_ja if locale == "ja" and self.description_ja else self.description
