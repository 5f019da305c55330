"""The shopper's order, reached with its order token and nothing else."""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import PublicApiView
from orders.api.serializers.shopper import ShopperOrderSerializer
from orders.selectors import order_for_status_page


class ShopperOrderApi(PublicApiView):
    throttle_scope = "order_status"

    @extend_schema(
        tags=["orders (shopper)"],
        operation_id="shopper_order_retrieve",
        summary="The order behind an order token",
        description="What the order page shows: status, lines, what the shopper must do next "
        "(`payment.next_action`) and the timeline, labelled in the order's language. The token, "
        "returned by checkout, is the only credential and reaches only its own order; an unknown "
        "and a malformed token get the same 404.",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description="The order token.")],
        responses=ShopperOrderSerializer,
    )
    def get(self, request: Request, token: str) -> Response:
        order = order_for_status_page(token=token)  # Order.DoesNotExist -> 404 problem
        with translation.override(order.locale):
            return Response(ShopperOrderSerializer(order).data)
