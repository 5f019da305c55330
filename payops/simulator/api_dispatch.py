"""What every Stripe API endpoint of the simulator does around its handler.

``stripe_endpoint(get=..., post=...)`` builds the Django view: 404 unless the simulator is on,
the secret key check, decoding of the form-encoded parameters, one transaction per request,
``Idempotency-Key`` replay, and Stripe-shaped JSON responses with a ``Request-Id`` header.
A handler takes ``Params`` plus the URL's ids and returns the response object, raising
``StripeApiError`` for anything Stripe would refuse.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from payops.simulator.errors import StripeApiError
from payops.simulator.params import Params, decode_form
from payops.simulator.services.events import serving_api_request
from payops.simulator.services.idempotency import (
    find_stored_response,
    key_in_use,
    request_fingerprint,
    store_response,
)
from payops.simulator.stripe_objects import api_version, new_stripe_id

logger = logging.getLogger(__name__)

Handler = Callable[..., dict[str, Any]]
View = Callable[..., HttpResponse]
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def ensure_simulator_enabled() -> None:
    """Every simulator URL is a 404 unless PAYMENT_SIMULATOR is on, and always beside a live key."""
    if not getattr(settings, "PAYMENT_SIMULATOR", False):
        raise Http404("the payment simulator is off")
    if settings.STRIPE_SECRET_KEY.startswith(LIVE_KEY_PREFIXES):
        raise Http404("the payment simulator never runs with a live Stripe key")


def stripe_endpoint(*, get: Handler | None = None, post: Handler | None = None, delete: Handler | None = None) -> View:
    handlers = {"GET": get, "POST": post, "DELETE": delete}

    @csrf_exempt
    def view(request: HttpRequest, **url_ids: str) -> HttpResponse:
        ensure_simulator_enabled()
        request_id = new_stripe_id("req")
        handler = handlers.get(request.method or "")
        try:
            if handler is None:
                raise unrecognized_url(request)
            _authenticate(request)
            data = decode_form(request.POST if request.method == "POST" else request.GET)
        except StripeApiError as exc:
            return _json_response(request, exc.status, exc.as_json(), request_id=request_id)
        # Stripe honours the key on POST only; GET and DELETE are naturally idempotent.
        key = request.headers.get("Idempotency-Key", "").strip() if request.method == "POST" else ""
        with serving_api_request(request_id=request_id, idempotency_key=key or None):
            return _execute(request, handler, data, url_ids, request_id=request_id, key=key)

    return view


@csrf_exempt
def unrecognized_url_view(request: HttpRequest, path: str = "") -> HttpResponse:
    ensure_simulator_enabled()
    error = unrecognized_url(request)
    return _json_response(request, error.status, error.as_json(), request_id=new_stripe_id("req"))


def unrecognized_url(request: HttpRequest) -> StripeApiError:
    api_path = request.path[request.path.find("/v1/") :] if "/v1/" in request.path else request.path
    return StripeApiError(
        f"Unrecognized request URL ({request.method}: {api_path}). Please see https://stripe.com/docs "
        "or the payment simulator's ADR (docs/adr/0003-payment-simulator.md) for what it serves.",
        status=404,
    )


def _authenticate(request: HttpRequest) -> None:
    given = _presented_key(request.headers.get("Authorization", ""))
    if not given:
        raise StripeApiError(
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            status=401,
            type="authentication_error",
        )
    if not hmac.compare_digest(given.encode(), settings.STRIPE_SECRET_KEY.encode()):
        raise StripeApiError(
            f"Invalid API Key provided: {given[:8]}{'*' * max(len(given) - 12, 0)}{given[-4:]}",
            status=401,
            type="authentication_error",
        )


def _presented_key(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        # curl -u sk_test_…: — Stripe accepts the key as the basic-auth user name.
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _execute(
    request: HttpRequest,
    handler: Handler,
    data: dict[str, Any],
    url_ids: dict[str, str],
    *,
    request_id: str,
    key: str,
) -> HttpResponse:
    with transaction.atomic():
        fingerprint = ""
        if key:
            fingerprint = request_fingerprint(method=request.method or "", path=request.path, params=data)
            try:
                stored = find_stored_response(key=key, fingerprint=fingerprint)
            except StripeApiError as exc:
                return _json_response(request, exc.status, exc.as_json(), request_id=request_id)
            if stored is not None:
                return _json_response(
                    request,
                    stored.status,
                    stored.body,
                    request_id=stored.request_id,
                    idempotency_key=key,
                    replayed=True,
                )
        try:
            status, body = 200, handler(Params(data), **url_ids)
        except StripeApiError as exc:
            if not exc.keep_changes:
                # Validation and state errors leave nothing behind, and are not stored for replay.
                transaction.set_rollback(True)
                return _json_response(request, exc.status, exc.as_json(), request_id=request_id)
            status, body = exc.status, exc.as_json()
        except Exception as exc:
            logger.exception("payment simulator failed on %s %s", request.method, request.path)
            transaction.set_rollback(True)
            error = StripeApiError(
                f"The payment simulator failed: {type(exc).__name__}: {exc}", status=500, type="api_error"
            )
            return _json_response(request, 500, error.as_json(), request_id=request_id)
        text = json.dumps(body, indent=2, ensure_ascii=False)
        if key and not store_response(
            key=key, fingerprint=fingerprint, request_id=request_id, status=status, body=text
        ):
            transaction.set_rollback(True)
            conflict = key_in_use(key)
            return _json_response(request, conflict.status, conflict.as_json(), request_id=request_id)
        return _json_response(request, status, text, request_id=request_id, idempotency_key=key)


def _json_response(
    request: HttpRequest,
    status: int,
    body: dict[str, Any] | str,
    *,
    request_id: str,
    idempotency_key: str = "",
    replayed: bool = False,
) -> HttpResponse:
    text = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)
    response = HttpResponse(text, status=status, content_type="application/json")
    response["Request-Id"] = request_id
    response["Stripe-Version"] = request.headers.get("Stripe-Version") or api_version()
    if idempotency_key:
        response["Idempotency-Key"] = idempotency_key
    if replayed:
        response["Idempotent-Replayed"] = "true"
    if 400 <= status < 500 and status != 409:
        # Retrying a refused request cannot help; tell the stripe library so.
        response["Stripe-Should-Retry"] = "false"
    return response
