import datetime as dt

from django import template
from django.utils import translation

from orders import presentation
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
