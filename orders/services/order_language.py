"""The language a shopper reads their order in: its page, live updates and mails."""

from __future__ import annotations

from django.db import transaction

from orders.models import Order
from orders.models.orders import Language


@transaction.atomic
def order_set_language(*, order_id: int, language: str) -> Order:
    """Switch the order to ``language``; its page, live updates and later mails follow."""
    if language not in Language.values:
        raise ValueError(f"unknown language {language!r}")
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.locale != language:
        order.locale = language
        order.save(update_fields=["locale", "updated_at"])
    return order
