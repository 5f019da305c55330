"""Stripe webhook endpoint: verify the signature over the raw body, then acknowledge.

The durable inbox and processing arrive with the webhook issue; until then events are only
verified and logged.
"""

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Stripe-Signature", "")
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(
                request.body.decode("utf-8", "replace"), header, secret, settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
            )
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        logger.warning("stripe webhook refused: signature did not verify")
        return JsonResponse({"error": "invalid signature"}, status=400)
    try:
        event = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    logger.info("stripe event %s %s verified", event.get("id"), event.get("type"))
    return JsonResponse({"received": True})
