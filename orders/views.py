"""Shopper-facing pages: the demo shop and the order-status page. Thin: parse, call, render."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from orders import errors
from orders.forms import ShopCheckoutForm
from orders.models import Order, Product
from orders.selectors import order_for_status_page
from orders.services.checkout import checkout


def _catalogue() -> list[Product]:
    return list(Product.objects.filter(is_active=True).order_by("sku"))


@require_GET
def shop(request: HttpRequest) -> HttpResponse:
    products = _catalogue()
    form = ShopCheckoutForm(products=products, simulator=settings.PAYMENT_SIMULATOR)
    return render(request, "shop/index.html", {"form": form, "products": products})


@require_POST
def shop_checkout(request: HttpRequest) -> HttpResponse:
    products = _catalogue()
    form = ShopCheckoutForm(request.POST, products=products, simulator=settings.PAYMENT_SIMULATOR)
    if form.is_valid():
        try:
            result = checkout(
                items=form.cart_items(),
                email=form.cleaned_data["email"],
                method=form.cleaned_data["payment_method"],
                locale=form.cleaned_data["locale"],
                payment_method_id=form.payment_method_id(),
            )
        except errors.PaymentNotTaken as exc:
            return redirect(exc.order.get_absolute_url())
        except errors.OrderError as exc:
            form.add_checkout_error(exc.message, field=exc.field)
        else:
            return redirect(result.order.get_absolute_url())
    return render(request, "shop/index.html", {"form": form, "products": products}, status=400)


@require_GET
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order = order_for_status_page(token=token)
    except Order.DoesNotExist:
        # Same answer for a malformed and an unknown token: nothing to learn by probing.
        raise Http404("No such order") from None
    with translation.override(order.locale):
        payment = order.current_payment  # type: ignore[attr-defined]
        return render(request, "orders/status.html", {"order": order, "payment": payment})
