"""The shopper's order, reached with its order token and nothing else."""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import PublicApiView
from orders.api.serializers.checkout import CheckoutResponseSerializer, PaymentRetryRequestSerializer
from orders.api.serializers.shopper import ShopperOrderSerializer
from orders.api.views.checkout import CheckoutProblemSerializer
from orders.selectors import order_for_status_page
from orders.services.payment_retry import order_retry_payment
from payops.api.schema import documented_problem


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


class ShopperPaymentRetryApi(PublicApiView):
    throttle_scope = "checkout"

    @extend_schema(
        tags=["orders (shopper)"],
        operation_id="shopper_order_payment_create",
        summary="Pay again, another way, for the same order",
        description="For an order still awaiting payment or whose payment failed (a declined card, a konbini "
        "voucher the shopper cannot use): cancels the open PaymentIntent and creates a new one for the same "
        "order, number and amount, with the chosen method. Answers like checkout: the order and what to do "
        "next. Refused with `payment-retry-not-allowed` (409, `reason`: `not_awaiting_payment`, `too_late`, "
        "`partly_paid`, `in_progress`, `out_of_stock`).",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description="The order token.")],
        request=PaymentRetryRequestSerializer,
        responses={
            201: CheckoutResponseSerializer,
            (402, "application/problem+json"): documented_problem(
                402,
                "payment-declined",
                "Payment declined",
                "Your card was declined.",
                "As at checkout: the card was declined (`payment-declined`), or Stripe refused to set the new "
                "payment up, e.g. for an unknown `payment_method_id` (`payment-setup-failed`). The order stays "
                "as `payment_failed` (in `order`) and may be paid again another way; nothing was charged.",
                serializer=CheckoutProblemSerializer,
                order={"number": "PO-4KQ7-ZP2M", "status": "payment_failed", "status_url": "https://…"},
                reason_code="generic_decline",
            ),
            (409, "application/problem+json"): documented_problem(
                409,
                "payment-retry-not-allowed",
                "Payment retry not allowed",
                "an order in status 'paid' is not awaiting payment",
                "The order cannot be paid again now; `reason` says why.",
                reason="not_awaiting_payment",
            ),
        },
        examples=[
            OpenApiExample("pay by konbini instead", value={"payment_method": "konbini"}, request_only=True),
        ],
    )
    def post(self, request: Request, token: str) -> Response:
        order = order_for_status_page(token=token)  # Order.DoesNotExist -> 404 problem
        serializer = PaymentRetryRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = order_retry_payment(
            order_id=order.pk, method=data["payment_method"], payment_method_id=data.get("payment_method_id", "")
        )
        return Response(CheckoutResponseSerializer(result).data, status=status.HTTP_201_CREATED)
