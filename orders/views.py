"""The shopper's order-status page (the shop itself is orders/shop/). Thin: parse, call, render."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from orders.models import Order
from orders.selectors import order_for_status_page


@require_GET
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order = order_for_status_page(token=token)
    except Order.DoesNotExist:
        # Same answer for a malformed and an unknown token: nothing to learn by probing.
        raise Http404("No such order") from None
    # The order's language, unless the shopper picked one with the language switch.
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    with translation.override(translation.get_language() if chosen else order.locale):
        payment = order.current_payment  # type: ignore[attr-defined]
        return render(request, "orders/status.html", {"order": order, "payment": payment})
