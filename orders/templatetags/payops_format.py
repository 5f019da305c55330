import datetime as dt
from typing import Any

from django import template
from django.utils import translation

from orders import payment_problems, presentation
from orders.dashboard import labels
from orders.models import Order
from orders.shopper_timeline import ShopperStep, shopper_timeline
from payops.money import Money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return Money(int(amount), currency).format(translation.get_language() or "en")


@register.filter
def unix_datetime(value: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None


@register.filter
def event_label(event_type: str) -> str:
    return presentation.event_label(event_type)


@register.filter
def when(value: dt.datetime | int | None) -> str:
    """A moment as a person reads it, in JST: 2026年12月5日（土）23:59 / Sat 5 Dec 2026, 23:59.
    Takes a datetime or Stripe's unix seconds."""
    return presentation.human_datetime(value, translation.get_language() or "en")


@register.filter
def bank_account_type(code: str | None) -> str:
    return presentation.bank_account_type_label(code or "")


@register.filter
def minus(amount: int | None, other: int | None) -> int:
    """Whole minor units: what arrived of a payment is its amount minus what is still due."""
    return int(amount or 0) - int(other or 0)


@register.filter
def payment_problem(code: str | None) -> str:
    """Stripe's decline/error code → the sentence a shopper reads (never Stripe's message)."""
    return payment_problems.shopper_failure_message(code or "")


@register.filter
def signed_money(amount: int | None, currency: str) -> str:
    """Money that may be negative (a day with more refunds than sales): −1,000円."""
    if amount is None:
        return ""
    shown = money(abs(int(amount)), currency)
    return f"−{shown}" if int(amount) < 0 else shown


@register.filter
def shopper_steps(order: Order) -> list[ShopperStep]:
    return shopper_timeline(order)


@register.filter
def konbini_groups(stores: dict[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Stripe's per-store codes (a dict), or the mail's list of stores, as code groups."""
    if not stores:
        return []
    if isinstance(stores, list):  # a mail's context: [{"store", "payment_code", "confirmation_number"}]
        stores = {s["store"]: s for s in stores}
    return presentation.konbini_code_groups(stores)


@register.filter
def store_list(names: list[str]) -> str:
    separator = "・" if (translation.get_language() or "").startswith("ja") else ", "
    return separator.join(str(n) for n in names)


@register.filter
def facts(data: object, currency: str = "") -> list[tuple[str, str]]:
    """A dict of event, step or approval data as labelled facts for staff pages."""
    return labels.labelled_facts(data, currency=currency)


@register.filter
def payment_status(code: str) -> str:
    return labels.payment_status(code)


@register.filter
def timeline_source(code: str) -> str:
    return labels.timeline_source(code)


@register.filter
def decision(code: str) -> str:
    """approved / rejected in the page's language."""
    return str(labels.CODE_LABELS.get(code, code))
