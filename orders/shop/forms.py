"""The shop's forms. Labels and errors are translated; Django ties each error to its field
(``aria-invalid`` and ``aria-describedby`` pointing at the error list)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.models.payments import PaymentMethod
from orders.services.checkout import shopper_payment_methods

# Stripe's test cards, offered only while the payment simulator is the gateway: the value is the
# test PaymentMethod Stripe documents for the card (test mode takes it in place of a card).
TEST_CARDS = [
    ("pm_card_visa", _("4242 4242 4242 4242 — payment succeeds")),
    ("pm_card_chargeDeclined", _("4000 0000 0000 0002 — card is declined")),
    ("pm_card_authenticationRequired", _("4000 0025 0000 3155 — asks for 3-D Secure")),
]

# How the shop names each method a shopper may choose (which ones: ``shopper_payment_methods``).
_SHOP_METHOD_LABELS: dict[str, str | Promise] = {
    PaymentMethod.CARD: _("Credit card"),
    PaymentMethod.KONBINI: _("Convenience store (konbini)"),
    PaymentMethod.BANK_TRANSFER: _("Bank transfer"),
}


def shop_payment_choices() -> list[tuple[str, str | Promise]]:
    return [(method.value, _SHOP_METHOD_LABELS[method]) for method in shopper_payment_methods()]


PAYMENT_METHOD_HINTS: dict[str, str | Promise] = {
    PaymentMethod.KONBINI: _("Pay in cash at a convenience store within %(days)d days. We ship once it is paid."),
    PaymentMethod.BANK_TRANSFER: _(
        "Transfer to the account we show you within %(days)d days. We ship once it has arrived."
    ),
    PaymentMethod.CARD: _("Charged when you place the order. We ship once the payment is confirmed."),
}


def payment_timing(method: str) -> str:
    """When the shopper pays with ``method`` (the final confirmation screen must say so)."""
    days_to_pay: dict[str, int] = {
        PaymentMethod.KONBINI: settings.PAYOPS_KONBINI_EXPIRES_AFTER_DAYS,
        PaymentMethod.BANK_TRANSFER: settings.PAYOPS_BANK_TRANSFER_EXPIRES_AFTER_DAYS,
    }
    days = days_to_pay.get(method, 0)
    return str(PAYMENT_METHOD_HINTS[method]) % {"days": days}


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=settings.PAYOPS_MAX_LINE_QUANTITY, initial=1
    )


class CartQuantitiesForm(forms.Form):
    """One quantity box per cart line (0 removes the line)."""

    def __init__(self, *args: Any, lines: list[tuple[str, str, int]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for sku, name, quantity in lines:
            self.fields[f"qty_{sku}"] = forms.IntegerField(
                label=_("Quantity of %(name)s") % {"name": name},
                min_value=0,
                max_value=settings.PAYOPS_MAX_LINE_QUANTITY,
                initial=quantity,
            )

    def changes(self) -> dict[str, int]:
        return {name.removeprefix("qty_"): value for name, value in self.cleaned_data.items()}


class PaymentChoiceForm(forms.Form):
    """How the shopper pays: at checkout, and when paying again for an order another way."""

    payment_method = forms.ChoiceField(
        label=pgettext_lazy("shop", "Payment method"), choices=shop_payment_choices, widget=forms.RadioSelect
    )
    test_card = forms.ChoiceField(
        label=_("Test card (simulator)"), choices=TEST_CARDS, required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, simulator: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.simulator = simulator
        self.fields["payment_method"].error_messages["required"] = _("Choose how you want to pay.")
        self.fields["payment_method"].error_messages["invalid_choice"] = _("Choose one of the payment methods shown.")
        if not simulator:
            del self.fields["test_card"]
        else:
            self.fields["test_card"].initial = TEST_CARDS[0][0]

    @property
    def first_error(self) -> str:
        """The first field in error: the page puts the keyboard focus there (``autofocus``)."""
        return next((name for name in self.fields if name in self.errors), "") if self.is_bound else ""

    def full_clean(self) -> None:
        super().full_clean()
        if self.first_error and self.first_error != "payment_method":  # radios are drawn by the page
            self.fields[self.first_error].widget.attrs["autofocus"] = True

    def choice(self) -> dict[str, str]:
        data = {"payment_method": self.cleaned_data["payment_method"]}
        if self.simulator and data["payment_method"] == PaymentMethod.CARD:
            data["test_card"] = self.cleaned_data.get("test_card") or TEST_CARDS[0][0]
        return data


class CheckoutDetailsForm(PaymentChoiceForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send the order confirmation and payment instructions here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["email", "payment_method", "test_card"]

    def __init__(self, *args: Any, simulator: bool, **kwargs: Any) -> None:
        super().__init__(*args, simulator=simulator, **kwargs)
        self.fields["email"].error_messages["invalid"] = _("Enter an email address like hanako@example.jp.")
        self.fields["email"].error_messages["required"] = _("Enter your email address.")

    def as_session(self) -> dict[str, str]:
        return {"email": self.cleaned_data["email"], **self.choice()}


def payment_method_choices() -> list[dict[str, object]]:
    """The methods as the shop shows them: value, label and when the shopper pays."""
    return [{"value": value, "label": label, "hint": payment_timing(value)} for value, label in shop_payment_choices()]


def simulator_payment_method_id(details: dict[str, str]) -> str:
    """The simulator's PaymentMethod for the chosen test card (live cards come through Stripe.js)."""
    if details.get("payment_method") != PaymentMethod.CARD:
        return ""
    return details.get("test_card", "")
