"""The demo storefront: products, a product page, the cart, checkout details and the review step.

Thin: each view reads the request, calls the catalogue, the cart or the checkout service (the
same ones the public API calls), and renders. Nothing is reserved before the review step's
"place order", and then only by ``checkout`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.forms import BoundField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import errors
from orders.catalogue import orderable_quantity, product_on_sale, products_on_sale, stock_level
from orders.models import Product
from orders.services.checkout import checkout, ensure_method_available
from orders.shop.cart import CartError, CartView, SessionCart
from orders.shop.forms import (
    AddToCartForm,
    CartQuantitiesForm,
    CheckoutDetailsForm,
    payment_method_choices,
    payment_timing,
    shop_payment_choices,
    simulator_payment_method_id,
)
from orders.shop.messages import shopper_message
from payops.money import Money

DETAILS_SESSION_KEY = "payops_checkout_details"


def shopper_locale() -> str:
    return "ja" if (translation.get_language() or "").startswith("ja") else "en"


def _product_card(product: Product, locale: str) -> dict[str, object]:
    return {
        "product": product,
        "name": product.display_name(locale),
        "description": product.display_description(locale),
        "stock_level": stock_level(product),
        "orderable": orderable_quantity(product),
    }


@dataclass
class LineRow:
    product: Product
    name: str
    quantity: int
    unit_price: Money
    total: Money
    field: BoundField | None = None


def _cart_rows(cart_view: CartView, locale: str) -> list[LineRow]:
    if cart_view.priced is None:
        return []
    return [
        LineRow(
            product=line.product,
            name=line.product.display_name(locale),
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.total,
        )
        for line in cart_view.priced.lines
    ]


@require_GET
def shop(request: HttpRequest) -> HttpResponse:
    locale = shopper_locale()
    cards = [_product_card(product, locale) for product in products_on_sale()]
    return render(request, "shop/index.html", {"cards": cards, "cart_count": _cart_count(request)})


@require_GET
def product_page(request: HttpRequest, sku: str) -> HttpResponse:
    product = product_on_sale(sku=sku)
    if product is None:
        raise Http404("No such product")
    return _render_product(request, product, AddToCartForm())


def _render_product(request: HttpRequest, product: Product, form: AddToCartForm, status: int = 200) -> HttpResponse:
    context = {**_product_card(product, shopper_locale()), "form": form, "cart_count": _cart_count(request)}
    return render(request, "shop/product.html", context, status=status)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    sku = request.POST.get("sku", "")
    product = product_on_sale(sku=sku)
    if product is None:
        raise Http404("No such product")
    form = AddToCartForm(request.POST)
    if form.is_valid():
        try:
            SessionCart(request.session).add(sku=sku, quantity=form.cleaned_data["quantity"])
        except CartError as exc:
            form.add_error("quantity", exc.message)
        else:
            messages.success(
                request, _("“%(name)s” was added to your cart.") % {"name": product.display_name(shopper_locale())}
            )
            return redirect("shop-cart")
    return _render_product(request, product, form, status=400)


@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest) -> HttpResponse:
    locale = shopper_locale()
    session_cart = SessionCart(request.session)
    cart_view = session_cart.view(locale=locale)
    rows = _cart_rows(cart_view, locale)
    form_lines = [(row.product.sku, row.name, row.quantity) for row in rows]
    form = CartQuantitiesForm(lines=form_lines)
    status = 200
    if request.method == "POST":
        remove = request.POST.get("remove", "")
        if remove:
            session_cart.remove(remove)
            messages.info(request, _("The item was removed from your cart."))
            return redirect("shop-cart")
        form = CartQuantitiesForm(request.POST, lines=form_lines)
        if form.is_valid():
            try:
                session_cart.set_quantities(form.changes())
            except CartError as exc:
                form.add_error(exc.field or None, exc.message)
            else:
                messages.info(request, _("Your cart was updated."))
                return redirect("shop-cart")
        status = 400
    for message in cart_view.notices:
        messages.warning(request, message)
    for row in rows:
        row.field = form[f"qty_{row.product.sku}"]
    context = {"cart": cart_view, "lines": rows, "form": form, "cart_count": cart_view.item_count}
    return render(request, "shop/cart.html", context, status=status)


@require_http_methods(["GET", "POST"])
def checkout_details(request: HttpRequest) -> HttpResponse:
    locale = shopper_locale()
    cart_view = SessionCart(request.session).view(locale=locale)
    if cart_view.is_empty:
        messages.info(request, _("Your cart is empty. Please add a product first."))
        return redirect("shop-cart")
    simulator = settings.PAYMENT_SIMULATOR
    status = 200
    if request.method == "POST":
        form = CheckoutDetailsForm(request.POST, simulator=simulator)
        if form.is_valid() and _method_fits_the_cart(form, cart_view, locale):
            request.session[DETAILS_SESSION_KEY] = form.as_session()
            return redirect("shop-review")
        status = 400
    else:
        form = CheckoutDetailsForm(initial=request.session.get(DETAILS_SESSION_KEY), simulator=simulator)
    for message in cart_view.notices:
        messages.warning(request, message)
    context = {
        "form": form,
        "cart": cart_view,
        "lines": _cart_rows(cart_view, locale),
        "methods": payment_method_choices(),
        "cart_count": cart_view.item_count,
    }
    return render(request, "shop/checkout.html", context, status=status)


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The final confirmation screen: everything the shopper agrees to, on one page, then the order."""
    locale = shopper_locale()
    session_cart = SessionCart(request.session)
    cart_view = session_cart.view(locale=locale)
    details = request.session.get(DETAILS_SESSION_KEY)
    if cart_view.is_empty:
        messages.info(request, _("Your cart is empty. Please add a product first."))
        return redirect("shop-cart")
    if not details or not details.get("payment_method"):
        return redirect("shop-checkout")
    if cart_view.notices:
        # What the shopper reviewed changed under them: show the cart again before taking money.
        for message in cart_view.notices:
            messages.warning(request, message)
        return redirect("shop-cart")
    if request.method == "POST":
        try:
            result = checkout(
                items=session_cart.items(),
                email=details["email"],
                method=details["payment_method"],
                locale=locale,
                payment_method_id=simulator_payment_method_id(details) if settings.PAYMENT_SIMULATOR else "",
            )
        except errors.PaymentNotTaken as exc:
            # The order exists (its status page offers another way to pay); the cart became it.
            _forget_checkout(request, session_cart)
            return redirect(exc.order.get_absolute_url())
        except errors.PaymentMethodNotAvailable as exc:
            messages.error(request, shopper_message(exc, locale=locale))
            return redirect("shop-checkout")
        except errors.OrderError as exc:
            messages.error(request, shopper_message(exc, locale=locale))
            return redirect("shop-cart")
        _forget_checkout(request, session_cart)
        return redirect(result.order.get_absolute_url())
    method_labels = dict(shop_payment_choices())
    context = {
        "cart": cart_view,
        "lines": _cart_rows(cart_view, locale),
        "email": details["email"],
        "method_label": method_labels.get(details["payment_method"], ""),
        "payment_timing": payment_timing(details["payment_method"]),
        "cart_count": cart_view.item_count,
    }
    return render(request, "shop/review.html", context)


def _method_fits_the_cart(form: CheckoutDetailsForm, cart_view: CartView, locale: str) -> bool:
    """The rule checkout applies (konbini's amount range, JPY only), asked on the details step."""
    if cart_view.priced is None:
        return False
    try:
        ensure_method_available(method=form.cleaned_data["payment_method"], total=cart_view.priced.total)
    except errors.PaymentMethodNotAvailable as exc:
        form.add_error("payment_method", shopper_message(exc, locale=locale))
        return False
    return True


def _forget_checkout(request: HttpRequest, session_cart: SessionCart) -> None:
    # The e-mail stays for the shopper's next order; the cart and the method were this order's.
    session_cart.clear()
    details = dict(request.session.get(DETAILS_SESSION_KEY) or {})
    request.session[DETAILS_SESSION_KEY] = {"email": details.get("email", "")}


def _cart_count(request: HttpRequest) -> int:
    return sum(SessionCart(request.session).quantities().values())
