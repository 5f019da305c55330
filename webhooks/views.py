"""Webhook endpoints: parse the request, call the receive service, answer fast."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from webhooks.services.receive import (
    Receipt,
    UnknownSource,
    WebhookRejected,
    outside_payment_receive,
    stripe_webhook_receive,
)

logger = logging.getLogger(__name__)


def _acknowledge(receipt: Receipt) -> JsonResponse:
    return JsonResponse(receipt.acknowledgement())


def _refuse(request: HttpRequest, exc: WebhookRejected, status: int = 400) -> JsonResponse:
    # Log the reason and the sender, never the body: it carries shoppers' personal data.
    logger.warning("webhook refused on %s from %s: %s", request.path, request.META.get("REMOTE_ADDR"), exc)
    return JsonResponse({"error": str(exc)}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        receipt = stripe_webhook_receive(
            body=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRejected as exc:
        return _refuse(request, exc)
    return _acknowledge(receipt)


@csrf_exempt
@require_POST
def outside_payment_webhook(request: HttpRequest, source: str) -> HttpResponse:
    try:
        receipt = outside_payment_receive(
            source=source,
            body=request.body,
            timestamp=request.headers.get("Payops-Timestamp", ""),
            signature=request.headers.get("Payops-Signature", ""),
        )
    except UnknownSource:
        return JsonResponse({"error": "unknown payment source"}, status=404)
    except WebhookRejected as exc:
        return _refuse(request, exc)
    return _acknowledge(receipt)
