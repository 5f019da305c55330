"""The order's history as its shopper reads it: only the steps a shopper cares about, in words,
with the amount wherever money moved (ご注文受付 → お支払い完了 → 発送準備中 → 発送済み → お届け完了).

Internal facts (fulfilment requests, refund requests, stock movements, approvals and review
holds, disputes, staff notes) stay on the staff pages. The status page, its live updates and
the shopper API all take their timeline from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from orders.models import Order, OrderEvent
from payops.money import Money


@dataclass(frozen=True)
class ShopperStep:
    sequence: int
    type: str
    at: dt.datetime
    label: str
    detail: str = ""
    link: str = ""  # a carrier's tracking page


def _money(amount: Any, currency: str) -> str:
    if isinstance(amount, dict):
        amount = amount.get("amount")
    if amount in (None, ""):
        return ""
    return Money(int(amount), currency).format(translation.get_language() or "en")


def _step(event: OrderEvent, order: Order) -> ShopperStep | None:
    data = event.data or {}
    currency = order.currency
    kind = event.type

    def step(label: str, detail: str = "", link: str = "") -> ShopperStep:
        return ShopperStep(event.sequence, kind, event.created_at, label, detail, link)

    if kind == "order.created":
        return step(_("Order placed"), _money(order.total_amount, currency))
    if kind == "order.awaiting_payment":
        return step(_("Waiting for your payment"))
    if kind == "payment.partially_funded":
        remaining = _money(data.get("amount_remaining"), currency)
        return step(
            _("Part of the bank transfer arrived"),
            _("%(amount)s still to transfer") % {"amount": remaining} if remaining else "",
        )
    if kind == "order.paid":
        return step(_("Payment received"), _money(data.get("amount_received", order.total_amount), currency))
    if kind == "order.payment_failed":
        return step(_("The payment did not go through"))
    if kind == "order.expired":
        return step(_("The time to pay ran out"))
    if kind == "order.cancelled":
        return step(_("Order cancelled"))
    if kind == "order.fulfilling":
        return step(_("Preparing your order"))
    if kind == "order.shipped":
        if data.get("digital"):
            return None  # a download is delivered at once: "Delivered" follows

        carrier, number = str(data.get("carrier") or ""), str(data.get("tracking_number") or "")
        detail = " · ".join(x for x in (carrier, number) if x)
        return step(_("Shipped"), detail, str(data.get("tracking_url") or ""))
    if kind in ("order.delivered", "order.completed"):
        return step(_("Delivered"))
    if kind == "refund.succeeded":
        return step(_("Refund issued"), _money(data.get("amount"), currency))
    return None


def shopper_timeline(order: Order, events: Iterable[OrderEvent] | None = None) -> list[ShopperStep]:
    """The shopper's steps, oldest first; a step repeated back to back (fulfilment resumed after
    an approval) shows once."""
    steps: list[ShopperStep] = []
    for event in events if events is not None else order.events.all():
        shown = _step(event, order)
        if shown is None or (steps and steps[-1].type == shown.type and shown.type == "order.fulfilling"):
            continue
        steps.append(shown)
    return steps
