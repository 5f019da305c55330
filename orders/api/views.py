"""Orders API edges: parse, call one service, render. Errors become problem+json."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import errors
from orders.api.serializers import CheckoutRequestSerializer, ProductSerializer, order_json, payment_json
from orders.models import Product
from orders.services.checkout import CartItem, checkout
from payops.api import problem_response

_STATUS_FOR_ERROR = {
    errors.InvalidCart: status.HTTP_400_BAD_REQUEST,
    errors.UnknownProduct: status.HTTP_400_BAD_REQUEST,
    errors.PaymentMethodNotAvailable: status.HTTP_400_BAD_REQUEST,
    errors.InsufficientStock: status.HTTP_409_CONFLICT,
    errors.PaymentDeclinedAtCheckout: status.HTTP_402_PAYMENT_REQUIRED,
    errors.PaymentProviderUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def order_error_response(exc: errors.OrderError) -> Response:
    status_code = next(code for cls, code in _STATUS_FOR_ERROR.items() if isinstance(exc, cls))
    extra: dict[str, object] = {}
    if exc.field:
        extra["errors"] = {exc.field: [exc.message]}
    if isinstance(exc, errors.InsufficientStock):
        extra["shortages"] = exc.shortages
    if isinstance(exc, errors.PaymentNotTaken):
        extra["order"] = {"number": exc.order.number, "status": exc.order.status, "status_url": exc.order.status_url}
        extra["reason_code"] = exc.reason_code
    headers = {"Retry-After": "5"} if status_code == status.HTTP_503_SERVICE_UNAVAILABLE else None
    return problem_response(
        status_code=status_code,
        slug=exc.code.replace("_", "-"),
        title=exc.code.replace("_", " ").capitalize(),
        detail=exc.message,
        headers=headers,
        **extra,
    )


def _body_too_large(request: Request) -> bool:
    limit = settings.PAYOPS_CHECKOUT_BODY_LIMIT
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return True
        return len(request.body) > limit
    except (ValueError, RequestDataTooBig):
        return True


class ProductListApi(APIView):
    def get(self, request: Request) -> Response:
        products = Product.objects.filter(is_active=True).order_by("sku")
        return Response({"results": ProductSerializer(products, many=True).data})


class CheckoutApi(APIView):
    # Shoppers are anonymous: no session, so no CSRF token to demand.
    authentication_classes: list[type] = []

    def post(self, request: Request) -> Response:
        if _body_too_large(request):
            return problem_response(
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                slug="request-too-large",
                title="Request too large",
                detail=f"the request body must be at most {settings.PAYOPS_CHECKOUT_BODY_LIMIT} bytes",
            )
        serializer = CheckoutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = checkout(
                items=[CartItem(sku=item["sku"], quantity=item["quantity"]) for item in data["items"]],
                email=data["email"],
                method=data["payment_method"],
                locale=data["locale"],
                payment_method_id=data.get("payment_method_id", ""),
            )
        except errors.OrderError as exc:
            return order_error_response(exc)
        return Response(
            {"order": order_json(result.order), "payment": payment_json(result.payment)}, status=status.HTTP_201_CREATED
        )
