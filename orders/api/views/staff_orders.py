"""Orders for staff: the filtered list and the full record."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import StaffApiView, StaffListApiView
from orders.api.filters import OrderFilter
from orders.api.selectors import staff_order_context, staff_order_detail, staff_orders
from orders.api.serializers.staff_orders import StaffOrderListItemSerializer, StaffOrderSerializer
from orders.models import Order
from payops.api.pagination import NewestFirstCursorPagination

ORDER_NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The order number, e.g. PO-4KQ7-ZP2M."
)


def render_staff_order(number: str) -> dict[str, Any]:
    order = staff_order_detail(number=number)
    return StaffOrderSerializer(order, context=staff_order_context(order)).data


class StaffOrderListApi(StaffListApiView):
    serializer_class = StaffOrderListItemSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        return staff_orders()

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_list",
        summary="Orders, newest first, filtered",
        description="Cursor-paginated: follow `next` / `previous`. Needs the view level.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StaffOrderDetailApi(StaffApiView):
    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_retrieve",
        summary="One order: lines, payments, refunds, shipments, disputes, timeline, allowed actions",
        parameters=[ORDER_NUMBER],
        responses=StaffOrderSerializer,
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(render_staff_order(number))
