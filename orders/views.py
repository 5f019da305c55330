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
from orders.services.order_language import order_set_language
from orders.services.payment_retry import order_retry_payment, payment_retry_refusal
from orders.shop.forms import PaymentChoiceForm, payment_method_choices, simulator_payment_method_id
from orders.shop.messages import payment_retry_message, shopper_message
from orders.state_machine import UNPAID_STATUSES


def _order_or_404(token: str) -> Order:
    try:
        return order_for_status_page(token=token)
    except Order.DoesNotExist:
        # Same answer for a malformed and an unknown token: nothing to learn by probing.
        raise Http404("No such order") from None


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
    with translation.override(order.locale):
        return _render_status(request, order)


@require_POST
def order_pay_again(request: HttpRequest, token: str) -> HttpResponse:
    """Pay for the same order again, another way (a declined card, a voucher the shopper cannot use)."""
    order = _order_or_404(token)
    language = order.locale
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


@require_POST
def order_language(request: HttpRequest, token: str) -> HttpResponse:
    """The language switch on the order page: the order itself changes language (its page, live
    updates and mails), and the shop follows, as with Django's own switch."""
    order = _order_or_404(token)
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return redirect(order.get_absolute_url())
    order_set_language(order_id=order.pk, language=language)
    response = redirect(order.get_absolute_url())
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_GET
def order_voucher(request: HttpRequest, token: str) -> HttpResponse:
    """The konbini voucher alone, laid out to print or show at the register."""
    order = _order_or_404(token)
    payment = order.current_payment  # type: ignore[attr-defined]
    action = (payment.next_action or {}) if payment is not None else {}
    if order.status not in UNPAID_STATUSES or action.get("type") != "konbini_display_details":
        return redirect(order.get_absolute_url())
    with translation.override(order.locale):
        return render(request, "orders/voucher.html", {"order": order, "payment": payment})
