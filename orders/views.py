"""The shopper's order-status page and its one action, paying again another way (the shop itself
is orders/shop/). Thin: parse, call, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from orders import errors
from orders.models import Order
from orders.selectors import order_for_status_page
from orders.services.payment_retry import order_retry_payment, payment_retry_refusal
from orders.shop.forms import PaymentChoiceForm, payment_method_choices, simulator_payment_method_id
from orders.shop.messages import payment_retry_message, shopper_message


def _order_or_404(token: str) -> Order:
    try:
        return order_for_status_page(token=token)
    except Order.DoesNotExist:
        # Same answer for a malformed and an unknown token: nothing to learn by probing.
        raise Http404("No such order") from None


def _page_language(request: HttpRequest, order: Order) -> str:
    # The order's language, unless the shopper picked one with the language switch.
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return (translation.get_language() or order.locale) if chosen else order.locale


def _render_status(request: HttpRequest, order: Order, *, form: PaymentChoiceForm | None = None) -> HttpResponse:
    pay_again = None
    if payment_retry_refusal(order) is None:
        pay_again = {
            "form": form or PaymentChoiceForm(simulator=settings.PAYMENT_SIMULATOR),
            "methods": payment_method_choices(),
        }
    context = {"order": order, "payment": order.current_payment, "pay_again": pay_again}  # type: ignore[attr-defined]
    return render(request, "orders/status.html", context, status=400 if form is not None else 200)


@require_GET
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_404(token)
    with translation.override(_page_language(request, order)):
        return _render_status(request, order)


@require_POST
def order_pay_again(request: HttpRequest, token: str) -> HttpResponse:
    """Pay for the same order again, another way (a declined card, a voucher the shopper cannot use)."""
    order = _order_or_404(token)
    language = _page_language(request, order)
    with translation.override(language):
        form = PaymentChoiceForm(request.POST, simulator=settings.PAYMENT_SIMULATOR)
        if not form.is_valid():
            return _render_status(request, order, form=form)
        choice = form.choice()
        try:
            order_retry_payment(
                order_id=order.pk,
                method=choice["payment_method"],
                payment_method_id=simulator_payment_method_id(choice) if settings.PAYMENT_SIMULATOR else "",
            )
        except errors.PaymentNotTaken:
            pass  # the status page says what happened to this attempt
        except errors.PaymentRetryNotAllowed as exc:
            messages.error(request, payment_retry_message(exc.reason))
        except errors.OrderError as exc:
            messages.error(request, shopper_message(exc, locale=language))
        return redirect(order.get_absolute_url())
