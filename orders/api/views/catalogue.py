"""The catalogue: what can be bought and how many are available."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import PublicApiView
from orders.api.serializers.catalogue import ProductSerializer
from orders.models import Product

PRODUCT_EXAMPLE = {
    "sku": "TEA-SENCHA-100",
    "name": "Sencha, 100 g",
    "name_ja": "煎茶 100g",
    "description": "First flush from Shizuoka.",
    "price": {"amount": 1500, "currency": "JPY", "display": "¥1,500"},
    "available": 12,
    "in_stock": True,
    "is_digital": False,
}


def _active_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("sku")


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
        return Response({"results": ProductSerializer(_active_products(), many=True).data})


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
        product = _active_products().filter(sku=sku).first()
        if product is None:
            raise Http404
        return Response(ProductSerializer(product).data)
