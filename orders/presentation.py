"""How orders read to shoppers and frontends: timeline labels (ja / en), money and next-step
shapes shared by the API, the pages and the live updates."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from orders.models import Payment
from orders.models.payments import PaymentMethod
from orders.state_machine import OrderStatus
from payops.money import Money

EVENT_LABELS = {
    "order.created": _("Order placed"),
    "payment.partially_funded": _("Part of the bank transfer arrived"),
    "payment.review_opened": _("Payment under review"),
    "payment.review_closed": _("Payment review finished"),
    "refund.succeeded": _("Refund issued"),
    "refund.failed": _("Refund failed"),
    "dispute.opened": _("Payment disputed"),
    "dispute.closed": _("Dispute closed"),
}


def event_label(event_type: str) -> str:
    if event_type in EVENT_LABELS:
        return str(EVENT_LABELS[event_type])
    status = event_type.removeprefix("order.")
    if status in OrderStatus.values:
        return str(OrderStatus(status).label)
    return event_type


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
