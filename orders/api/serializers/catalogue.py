"""Products as shoppers and frontends see them."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers.common import MoneyField
from orders.catalogue import StockLevel, stock_level
from orders.models import Product


class ProductSerializer(serializers.ModelSerializer):
    price = MoneyField("price_amount", help_text="Unit price, tax included (総額表示).")
    available = serializers.IntegerField(
        source="stock_available", help_text="Units that can be ordered now (on hand minus reserved)."
    )
    in_stock = serializers.SerializerMethodField(help_text="Whether at least one unit can be ordered.")
    stock_level = serializers.SerializerMethodField(
        help_text="What a shop shows shoppers instead of a count: in_stock (在庫あり), low (残りわずか, at or "
        "below PAYOPS_LOW_STOCK_THRESHOLD) or out_of_stock (在庫切れ)."
    )
    image_url = serializers.SerializerMethodField(help_text="The product's picture (absolute URL), or null.")

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "name_ja",
            "description",
            "description_ja",
            "image_url",
            "price",
            "available",
            "in_stock",
            "stock_level",
            "is_digital",
        ]
        extra_kwargs = {
            "name_ja": {"help_text": "Japanese name; empty when the product has none."},
            "description": {"help_text": "A short description in English."},
            "description_ja": {"help_text": "A short description in Japanese; empty when the product has none."},
            "is_digital": {"help_text": "Digital goods are not shipped."},
        }

    def get_in_stock(self, product: Product) -> bool:
        return product.stock_available > 0

    def get_stock_level(self, product: Product) -> str:
        level: StockLevel = stock_level(product)
        return level.value

    def get_image_url(self, product: Product) -> str | None:
        if not product.image:
            return None
        url = product.image.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url
