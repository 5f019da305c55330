"""Dashboard forms: the list filters (GET) and one form per action (POST).

Every action form carries ``request_key``, a random key made when the form is drawn: the same
form sent twice has the same key, and the action runs once (orders/services/staff_actions.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.dashboard.order_list import METHOD_LABELS, SORTS, OrderFilters
from orders.services.stock_adjustments import MAX_DELTA
from orders.state_machine import OrderStatus
from payops.mail.models import MailStatus
from payops.money import CURRENCY_EXPONENTS, Money, MoneyError
from payops.outbox.models import OutboxStatus
from webhooks.models import InboxStatus


def new_request_key() -> str:
    return uuid.uuid4().hex


def _blank(choices: Any, label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class OrderFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=254, label=_("Search"))
    status = forms.ChoiceField(required=False, choices=_blank(OrderStatus.choices, _("Any status")), label=_("Status"))
    method = forms.ChoiceField(
        required=False, choices=_blank(list(METHOD_LABELS.items()), _("Any method")), label=_("Payment method")
    )
    created_from = forms.DateField(
        required=False, label=pgettext_lazy("date range", "From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label=pgettext_lazy("date range", "To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    amount_min = forms.DecimalField(required=False, min_value=0, label=_("Amount from"))
    amount_max = forms.DecimalField(required=False, min_value=0, label=_("Amount to"))
    sort = forms.ChoiceField(
        required=False,
        label=_("Sort"),
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("amount_desc", _("Largest amount")),
            ("amount_asc", _("Smallest amount")),
        ],
    )

    def _minor(self, field: str) -> int | None:
        value = self.cleaned_data.get(field)
        if value is None:
            return None
        try:
            return Money.from_major(value, settings.PAYOPS_CURRENCY).amount
        except MoneyError as exc:
            raise forms.ValidationError(_amount_precision_message(settings.PAYOPS_CURRENCY)) from exc

    def clean_amount_min(self) -> int | None:
        return self._minor("amount_min")

    def clean_amount_max(self) -> int | None:
        return self._minor("amount_max")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> OrderFilters:
        """The filters to apply; a field that did not validate is left out (and shown in error)."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        sort = data.get("sort") or "newest"
        return OrderFilters(
            status=data.get("status") or "",
            method=data.get("method") or "",
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            currency=settings.PAYOPS_CURRENCY,
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
            query=data.get("q") or "",
            sort=sort if sort in SORTS else "newest",
        )


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_blank(InboxStatus.choices, _("Any status")))
    type = forms.CharField(required=False, max_length=128)
    provider = forms.CharField(required=False, max_length=64)


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_blank(OutboxStatus.choices, _("Any status")))


class MailFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_blank(MailStatus.choices, _("Any status")))
    q = forms.CharField(required=False, max_length=254)


# --- actions -------------------------------------------------------------------------------------


class ActionForm(forms.Form):
    request_key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)
    # The first POST shows what will happen; the action runs when the person confirms it.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("request_key", new_request_key())
        super().__init__(*args, **kwargs)

    @property
    def confirmed(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data.get("confirm"))


class RefundForm(ActionForm):
    amount = forms.DecimalField(
        required=False, min_value=0, label=_("Amount"), help_text=_("Leave empty to refund everything refundable.")
    )
    reason = forms.CharField(max_length=255, label=_("Reason"))

    def __init__(self, *args: Any, currency: str, refundable: Money | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        # Checked on the first step, so the confirm question never offers what will be refused.
        self.refundable = refundable
        step = 10 ** -CURRENCY_EXPONENTS.get(currency, 0)
        self.fields["amount"].widget.attrs.update({"step": str(step), "inputmode": "decimal"})
        if refundable is not None:
            self.fields["amount"].widget.attrs["max"] = str(refundable.major)

    def clean_amount(self) -> int | None:
        value = self.cleaned_data.get("amount")
        if value is None:
            return None
        try:
            minor = Money.from_major(value, self.currency).amount
        except MoneyError as exc:
            raise forms.ValidationError(_amount_precision_message(self.currency)) from exc
        if minor <= 0:
            raise forms.ValidationError(_("The amount must be more than zero."))
        if self.refundable is not None and minor > self.refundable.amount:
            raise forms.ValidationError(
                _("At most %(amount)s can still be refunded on this order.")
                % {"amount": money_display(self.refundable)}
            )
        return minor


def _amount_precision_message(currency: str) -> str:
    places = CURRENCY_EXPONENTS.get(currency, 0)
    if places == 0:
        return str(_("Enter a whole amount: %(currency)s has no decimal places.") % {"currency": currency})
    return str(_("Enter at most %(places)d decimal places.") % {"places": places})


def money_display(money: Money) -> str:
    return money.format(translation.get_language() or "en")


class CancelForm(ActionForm):
    reason = forms.CharField(max_length=500, required=False, label=_("Reason"))


class ApproveForm(ActionForm):
    note = forms.CharField(max_length=500, required=False, label=_("Note"))


class ShipForm(ActionForm):
    carrier = forms.CharField(max_length=64, label=_("Carrier"))
    tracking_number = forms.CharField(max_length=128, label=_("Tracking number"))
    tracking_url = forms.URLField(max_length=200, required=False, label=_("Tracking URL"), assume_scheme="https")


class RecordPaymentForm(ActionForm):
    amount = forms.DecimalField(min_value=0, label=_("Amount received"))
    reference = forms.CharField(max_length=255, label=_("Reference (bank slip, receipt)"))

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        try:
            return Money.from_major(self.cleaned_data["amount"], self.currency).amount
        except MoneyError as exc:
            raise forms.ValidationError(_amount_precision_message(self.currency)) from exc


class NoteForm(ActionForm):
    text = forms.CharField(max_length=2000, label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


class RowsActionForm(ActionForm):
    """Mail, webhook or outbox rows picked by id (one button, or checkboxes)."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be named; the service reads the rows and refuses the ones it cannot act on.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]


class StockAdjustForm(ActionForm):
    delta = forms.IntegerField(
        min_value=-MAX_DELTA,
        max_value=MAX_DELTA,
        label=_("Change (units)"),
        help_text=_("Negative to take units away."),
    )
    reason = forms.CharField(max_length=500, label=_("Reason"))
