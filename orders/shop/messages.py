"""Order errors in a shopper's words: product names instead of SKUs, what to do next, never internals.

The API keeps the domain's developer messages (codes, SKUs, fields); the shop pages show these.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from orders import errors
from orders.models import Product
from payops.money import Money
from payops.stripe.gateway import KONBINI_MAX_JPY, KONBINI_MIN_JPY


def shopper_message(exc: errors.OrderError, *, locale: str) -> str:
    if isinstance(exc, errors.InsufficientStock):
        return _shortage_message(exc, locale=locale)
    if isinstance(exc, errors.UnknownProduct):
        return _("An item in your cart is no longer sold. Please check your cart.")
    if isinstance(exc, errors.PaymentMethodNotAvailable):
        return _(
            "This payment method cannot be used for this order. Convenience-store payment is available for "
            "orders from %(min)s to %(max)s; please choose another method."
        ) % {"min": _yen(KONBINI_MIN_JPY, locale), "max": _yen(KONBINI_MAX_JPY, locale)}
    if isinstance(exc, errors.InvalidCart):
        return _("Your cart is empty. Please add a product first.")
    if isinstance(exc, errors.PaymentProviderUnavailable):
        return _("We could not reach the payment service. Nothing was charged; please try again in a moment.")
    return _("We could not accept the order. Nothing was charged; please try again.")


def _shortage_message(exc: errors.InsufficientStock, *, locale: str) -> str:
    names = {p.sku: p.display_name(locale) for p in Product.objects.filter(sku__in=[s["sku"] for s in exc.shortages])}
    parts = []
    for shortage in exc.shortages:
        name = names.get(str(shortage["sku"]), _("an item"))
        available = int(str(shortage["available"]))
        if available <= 0:
            parts.append(_("“%(name)s” has just sold out.") % {"name": name})
        else:
            parts.append(_("Only %(count)d of “%(name)s” are left.") % {"count": available, "name": name})
    return " ".join([*parts, _("Please change the quantity in your cart.")])


def _yen(amount: int, locale: str) -> str:
    return Money(amount, "JPY").format(locale)


def payment_retry_message(reason: str) -> str:
    """Why the shopper cannot pay again for an order, and what to do instead."""
    messages = {
        "not_awaiting_payment": _("This order is no longer waiting for payment."),
        "too_late": _("The time to pay for this order has passed. Please place a new order from the shop."),
        "partly_paid": _(
            "Part of your bank transfer has arrived, so the payment method cannot be changed. "
            "Please transfer the rest to the same account."
        ),
        "in_progress": _("Your payment is being set up. Please wait a moment and reload this page."),
        "out_of_stock": _("An item of this order is no longer in stock. Please place a new order from the shop."),
    }
    return messages.get(reason, _("This order cannot be paid another way now."))
