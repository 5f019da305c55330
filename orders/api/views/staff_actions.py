"""Staff actions on one order. Each parses its body, calls the staff layer (the same one the
dashboard calls: level, once per Idempotency-Key, audit), and answers with the order as it is
afterwards. Domain refusals are 409 problems (orders/api/errors.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import StaffApiView
from orders.api.permissions import may
from orders.api.serializers.staff_orders import (
    CancelRequestSerializer,
    NoteRequestSerializer,
    OutsidePaymentRequestSerializer,
    OutsidePaymentResponseSerializer,
    RefundRequestSerializer,
    RefundResponseSerializer,
    ShipmentRequestSerializer,
    StaffOrderSerializer,
    StaffRefundSerializer,
)
from orders.api.serializers.workflows import OrderDecisionSerializer
from orders.api.views.staff_orders import ORDER_NUMBER, render_staff_order
from orders.models import Order
from orders.services import staff_actions as staff
from payops.api.schema import documented_problem
from payops.stripe.gateway import GatewayUnavailable

ACTION_NOT_ALLOWED = documented_problem(
    409,
    "action-not-allowed",
    "Action not allowed",
    "cannot mark as shipped: order PO-4KQ7-ZP2M is awaiting payment",
    "The order's status does not allow this action now (`action-not-allowed`, the detail says why); or "
    "another request with the same Idempotency-Key is running (`idempotency-key-in-use`).",
)


def order_id_for(number: str) -> int:
    return Order.objects.values_list("pk", flat=True).get(number=number)  # DoesNotExist -> 404


def parsed(serializer_class: Any, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StaffRefundApi(StaffApiView):
    permission_classes = [may("refund")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_refund",
        summary="Refund an order, in full or in part",
        description="Needs the refund level. With an Idempotency-Key, a retried request is one refund even "
        "after a 503 (the key is also the refund's own deduplication key). Stripe's answer is usually "
        "immediate; a refund still `requested` or `pending` completes by webhook.",
        parameters=[ORDER_NUMBER],
        request=RefundRequestSerializer,
        responses={
            201: RefundResponseSerializer,
            (409, "application/problem+json"): ACTION_NOT_ALLOWED,
            (503, "application/problem+json"): documented_problem(
                503,
                "payment-provider-unavailable",
                "Payment provider unavailable",
                "Stripe could not be reached. The request is kept and retried; retrying with the same "
                "Idempotency-Key is safe.",
                "Stripe could not be reached. The refund is reserved and will be submitted by the retry "
                "task; retrying with the same Idempotency-Key returns it.",
            ),
        },
        examples=[
            OpenApiExample("partial", value={"amount": 1500, "reason": "one cup arrived broken"}, request_only=True)
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        data = parsed(RefundRequestSerializer, request)
        outcome = staff.staff_refund(
            self.staff_request(request), order_id=order_id_for(number), amount=data.get("amount"), reason=data["reason"]
        )
        if outcome.provider_unreachable:  # reserved; a 503 tells the client to retry with its key
            raise GatewayUnavailable("Stripe could not be reached")
        body = {"refund": StaffRefundSerializer(outcome.refund).data, "order": render_staff_order(number)}
        return Response(body, status=status.HTTP_201_CREATED)


class StaffCancelApi(StaffApiView):
    permission_classes = [may("cancel")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_cancel",
        summary="Cancel an unpaid order",
        description="Needs the operate level. Cancels the order's open PaymentIntents at Stripe first (so a "
        "voucher can no longer be paid), then the order, which gives its stock back. A paid order is "
        "refunded instead.",
        parameters=[ORDER_NUMBER],
        request=CancelRequestSerializer,
        responses={200: StaffOrderSerializer, (409, "application/problem+json"): ACTION_NOT_ALLOWED},
    )
    def post(self, request: Request, number: str) -> Response:
        data = parsed(CancelRequestSerializer, request)
        staff.staff_cancel(self.staff_request(request), order_id=order_id_for(number), reason=data["reason"])
        return Response(render_staff_order(number))


class StaffShipmentApi(StaffApiView):
    permission_classes = [may("ship")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_ship",
        summary="Mark an order shipped",
        description="Needs the operate level. Entering the same carrier and tracking number again changes nothing.",
        parameters=[ORDER_NUMBER],
        request=ShipmentRequestSerializer,
        responses={200: StaffOrderSerializer, (409, "application/problem+json"): ACTION_NOT_ALLOWED},
        examples=[
            OpenApiExample(
                "yamato",
                value={"carrier": "Yamato", "tracking_number": "1234-5678-9012", "tracking_url": ""},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        data = parsed(ShipmentRequestSerializer, request)
        staff.staff_mark_shipped(
            self.staff_request(request),
            order_id=order_id_for(number),
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            tracking_url=data["tracking_url"],
        )
        return Response(render_staff_order(number))


class StaffDeliveryApi(StaffApiView):
    permission_classes = [may("deliver")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_deliver",
        summary="Confirm a shipped order was delivered",
        description="Needs the operate level. Without it, a shipped order counts as delivered "
        "PAYOPS_DELIVERED_AFTER_DAYS after shipping. Repeating it changes nothing.",
        parameters=[ORDER_NUMBER],
        request=None,
        responses={200: StaffOrderSerializer, (409, "application/problem+json"): ACTION_NOT_ALLOWED},
    )
    def post(self, request: Request, number: str) -> Response:
        staff.staff_mark_delivered(self.staff_request(request), order_id=order_id_for(number))
        return Response(render_staff_order(number))


class StaffOutsidePaymentApi(StaffApiView):
    permission_classes = [may("record_payment")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_record_payment",
        summary="Record a payment received outside Stripe",
        description="Needs the operate level. For money Stripe did not see (a transfer to the merchant's own "
        "account, cash). The amount must equal the order total; the order becomes paid and its open "
        "Stripe payments are cancelled. The same reference again changes nothing (`applied: false`).",
        parameters=[ORDER_NUMBER],
        request=OutsidePaymentRequestSerializer,
        responses={
            201: OutsidePaymentResponseSerializer,
            200: OutsidePaymentResponseSerializer,
            (409, "application/problem+json"): documented_problem(
                409,
                "outside-payment-refused",
                "Outside payment refused",
                "amount ¥1,000 does not match the order total ¥3,000; partial payments outside Stripe are "
                "not applied automatically",
                "The payment cannot be applied (amount or currency differ, or the order cannot become paid); "
                "or another request with the same Idempotency-Key is running (`idempotency-key-in-use`).",
            ),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        data = parsed(OutsidePaymentRequestSerializer, request)
        outcome = staff.staff_record_outside_payment(
            self.staff_request(request),
            order_id=order_id_for(number),
            amount=data["amount"],
            currency=data["currency"],
            reference=data["reference"],
        )
        body = {"applied": outcome.applied, "detail": outcome.detail, "order": render_staff_order(number)}
        return Response(body, status=status.HTTP_201_CREATED if outcome.applied else status.HTTP_200_OK)


class StaffNoteApi(StaffApiView):
    permission_classes = [may("note")]

    @extend_schema(
        tags=["orders (staff)"],
        operation_id="staff_orders_note",
        summary="Add a note to an order's timeline",
        description="Needs the operate level. Notes are for staff: they are never published or shown to the customer.",
        parameters=[ORDER_NUMBER],
        request=NoteRequestSerializer,
        responses={201: StaffOrderSerializer},
    )
    def post(self, request: Request, number: str) -> Response:
        data = parsed(NoteRequestSerializer, request)
        staff.staff_note(self.staff_request(request), order_id=order_id_for(number), text=data["text"])
        return Response(render_staff_order(number), status=status.HTTP_201_CREATED)


class StaffDecisionApi(StaffApiView):
    """Approve or reject an order held for review (``approve`` set by the URL)."""

    permission_classes = [may("approve")]
    approve = True

    def post(self, request: Request, number: str) -> Response:
        data = parsed(OrderDecisionSerializer, request)
        staff.staff_decide(
            self.staff_request(request), order_id=order_id_for(number), approve=self.approve, note=data["note"]
        )
        return Response(render_staff_order(number))


_DECISION_DOCS = {
    True: (
        "staff_orders_approve",
        "Approve an order held for review",
        "Needs the operate level. The fulfilment workflow waiting for the decision goes on; an order held "
        "without a workflow moves back to fulfilling.",
    ),
    False: (
        "staff_orders_reject",
        "Reject an order held for review",
        "Needs the refund level: the fulfilment workflow waiting for the decision runs its compensation, "
        "a full refund and an apology mail.",
    ),
}


def decision_view(*, approve: bool) -> type[StaffDecisionApi]:
    operation_id, summary, description = _DECISION_DOCS[approve]

    def post(self: StaffDecisionApi, request: Request, number: str) -> Response:
        return StaffDecisionApi.post(self, request, number)

    post = extend_schema(
        tags=["orders (staff)"],
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[ORDER_NUMBER],
        request=OrderDecisionSerializer,
        responses={200: StaffOrderSerializer, (409, "application/problem+json"): ACTION_NOT_ALLOWED},
    )(post)
    name = "StaffApproveApi" if approve else "StaffRejectApi"
    permission = may("approve" if approve else "reject")
    return type(name, (StaffDecisionApi,), {"approve": approve, "post": post, "permission_classes": [permission]})


StaffApproveApi = decision_view(approve=True)
StaffRejectApi = decision_view(approve=False)
