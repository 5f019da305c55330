"""The catalogue: what can be bought and how many are available."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import PublicApiView
from orders.api.serializers.catalogue import ProductSerializer
from orders.catalogue import product_on_sale, products_on_sale

PRODUCT_EXAMPLE = {
    "sku": "TEA-SENCHA-100",
    "name": "Sencha, 100 g",
    "name_ja": "煎茶 100g",
    "description": "First flush from Shizuoka.",
    "description_ja": "静岡産の一番茶。",
    "image_url": "https://shop.example.jp/media/products/tea-sencha-100.svg",
    "price": {"amount": 1500, "currency": "JPY", "display": "¥1,500"},
    "available": 12,
    "in_stock": True,
    "stock_level": "in_stock",
    "is_digital": False,
}


class ProductListApi(PublicApiView):
    throttle_scope = "catalogue"

    @extend_schema(
        tags=["catalogue"],
        operation_id="products_list",
        summary="List the products on sale",
        responses=inline_serializer("ProductList", {"results": ProductSerializer(many=True)}),
        examples=[OpenApiExample("catalogue", value={"results": [PRODUCT_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        products = ProductSerializer(products_on_sale(), many=True, context={"request": request})
        return Response({"results": products.data})


class ProductDetailApi(PublicApiView):
    throttle_scope = "catalogue"

    @extend_schema(
        tags=["catalogue"],
        operation_id="products_retrieve",
        summary="One product, with its availability now",
        responses=ProductSerializer,
        examples=[OpenApiExample("product", value=PRODUCT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, sku: str) -> Response:
        product = product_on_sale(sku=sku)
        if product is None:
            raise Http404
        return Response(ProductSerializer(product, context={"request": request}).data)
