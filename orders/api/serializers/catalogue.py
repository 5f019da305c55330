"""Products as shoppers and frontends see them."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers.common import MoneyField
from orders.models import Product


class ProductSerializer(serializers.ModelSerializer):
    price = MoneyField("price_amount", help_text="Unit price.")
    available = serializers.IntegerField(
        source="stock_available", help_text="Units that can be ordered now (on hand minus reserved)."
    )
    in_stock = serializers.SerializerMethodField(help_text="Whether at least one unit can be ordered.")

    class Meta:
        model = Product
        fields = ["sku", "name", "name_ja", "description", "price", "available", "in_stock", "is_digital"]
        extra_kwargs = {
            "name_ja": {"help_text": "Japanese name; empty when the product has none."},
            "is_digital": {"help_text": "Digital goods are not shipped."},
        }

    def get_in_stock(self, product: Product) -> bool:
        return product.stock_available > 0
