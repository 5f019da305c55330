"""How orders read to shoppers and frontends: timeline labels (ja / en), money and next-step
shapes shared by the API, the pages and the live updates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders import payment_problems
from orders.models import Payment
from orders.models.payments import PaymentMethod
from orders.state_machine import OrderStatus
from payops.money import Money

EVENT_LABELS = {
    "order.created": _("Order placed"),
    "payment.partially_funded": _("Part of the bank transfer arrived"),
    "payment.review_opened": _("Payment under review"),
    "payment.review_closed": _("Payment review finished"),
    "payment.over_payment": _("Payment received twice"),
    "refund.succeeded": _("Refund issued"),
    "refund.failed": _("Refund failed"),
    "dispute.opened": _("Payment disputed"),
    "dispute.closed": _("Dispute closed"),
    "payment.retried": _("Payment method chosen again"),
}


def event_label(event_type: str) -> str:
    if event_type in EVENT_LABELS:
        return str(EVENT_LABELS[event_type])
    status = event_type.removeprefix("order.")
    if status in OrderStatus.values:
        return str(OrderStatus(status).label)
    return event_type


# Zengin account types as Stripe names them (``financial_addresses[].zengin.account_type``).
BANK_ACCOUNT_TYPES = {"futsu": _("Ordinary account"), "toza": _("Current account")}

_WEEKDAYS = {
    "ja": ("月", "火", "水", "木", "金", "土", "日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Konbini chains as Stripe names them (next_action.konbini_display_details.stores), in the order
# Stripe lists them; shown by the name the shopper sees over the door.
KONBINI_STORES = {
    "familymart": _("FamilyMart"),
    "lawson": _("Lawson"),
    "ministop": _("Ministop"),
    "seicomart": _("Seicomart"),
}


def konbini_code_groups(stores: dict[str, Any]) -> list[dict[str, Any]]:
    """The voucher's numbers once per distinct pair, with the stores that accept that pair
    (Stripe gives every store the same numbers today; if they ever differ, each pair shows)."""
    groups: dict[tuple[str, str], list[str]] = {}
    ordered = sorted(
        stores.items(), key=lambda item: list(KONBINI_STORES).index(item[0]) if item[0] in KONBINI_STORES else 99
    )
    for store, codes in ordered:
        codes = codes or {}
        key = (str(codes.get("payment_code") or ""), str(codes.get("confirmation_number") or ""))
        groups.setdefault(key, []).append(str(KONBINI_STORES.get(store, store)))
    return [
        {"payment_code": payment_code, "confirmation_number": confirmation, "stores": names}
        for (payment_code, confirmation), names in groups.items()
    ]


def bank_account_type_label(code: str) -> str:
    label = BANK_ACCOUNT_TYPES.get(code.strip().lower())
    return str(label) if label is not None else code


def human_datetime(value: dt.datetime | int | str | None, language: str) -> str:
    """A moment in JST (TIME_ZONE) the way a shopper reads it; minutes, no seconds."""
    if value in (None, ""):
        return ""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    local = timezone.localtime(moment)
    if language.startswith("ja"):
        weekday = _WEEKDAYS["ja"][local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日（{weekday}）{local:%H:%M}"
    weekday = _WEEKDAYS["en"][local.weekday()]
    return f"{weekday} {local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def payment_failure_json(payment: Payment) -> dict[str, str] | None:
    """A failed payment for the shopper: the kind and a kind sentence, never Stripe's wording."""
    if not payment.failure_code:
        return None
    return {
        "kind": payment_problems.payment_problem_kind(payment.failure_code),
        "message": payment_problems.shopper_failure_message(payment.failure_code),
    }


def money_json(amount: int, currency: str) -> dict[str, Any]:
    money = Money(amount, currency)
    return {"amount": money.amount, "currency": money.currency, "display": money.format()}


def next_action_for(payment: Payment) -> dict[str, Any] | None:
    """What the shopper must do next, in a shape that does not depend on Stripe's."""
    action = payment.next_action or {}
    kind = action.get("type")
    if kind == "konbini_display_details":
        details = action["konbini_display_details"]
        return {
            "type": "konbini",
            "expires_at": details.get("expires_at"),
            "hosted_voucher_url": details.get("hosted_voucher_url"),
            "stores": details.get("stores", {}),
        }
    if kind == "display_bank_transfer_instructions":
        details = action["display_bank_transfer_instructions"]
        addresses = details.get("financial_addresses") or [{}]
        return {
            "type": "bank_transfer",
            "amount_remaining": details.get("amount_remaining"),
            "currency": str(details.get("currency", payment.currency)).upper(),
            "reference": details.get("reference"),
            "hosted_instructions_url": details.get("hosted_instructions_url"),
            "bank_account": addresses[0].get("zengin", {}),
        }
    if kind == "redirect_to_url":
        return {"type": "three_d_secure", "url": action["redirect_to_url"]["url"]}
    if (
        payment.method == PaymentMethod.CARD
        and payment.status == "requires_payment_method"
        and not payment.failure_code
    ):
        return {"type": "confirm_card", "client_secret": payment.client_secret}
    return None
