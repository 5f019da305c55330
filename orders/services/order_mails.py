"""Mails to the shopper about their order: which order events mean a mail, and the one place
that names an order mail (its idempotency key) and says what every order mail shows.

``order_event_mails`` is a reaction to every order event (registered in
``OrdersConfig.ready()``); it writes the ``Mail`` rows in the transaction that records the event
and the mail app sends them after commit. The fulfilment workflow's mail steps make sure of
the same mails through ``order_mail_enqueue`` under the same keys, so a shopper gets each once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from orders.models import Order, OrderEvent, Payment
from payops.mail.models import Mail, MailTemplate
from payops.mail.services import mail_enqueue

_MAX_TEXT = 500
_DELAYED_METHODS = frozenset({"konbini", "bank_transfer"})
# The events that may mean a mail; any other event costs no query here.
_MAIL_EVENTS = frozenset(
    {
        "order.awaiting_payment",
        "payment.retried",
        "order.paid",
        "order.payment_failed",
        "order.expired",
        "refund.succeeded",
        "order.shipped",
        "order.needs_attention",
    }
)
# Whether the mail depends on the payment (its method, the amount received).
_PAYMENT_EVENTS = frozenset(
    {"order.awaiting_payment", "payment.retried", "order.paid", "order.payment_failed", "order.expired"}
)


def order_mail_key(order: Order, template: str, *parts: object) -> str:
    """The idempotency key of an order mail: ``order:<number>:<template>[:<part>...]``. Without
    parts the mail is once per order; a part (an event's sequence, a refund id) makes it once
    per that thing."""
    return ":".join(["order", order.number, template, *(str(part) for part in parts)])


def order_mail_context(order: Order) -> dict[str, Any]:
    """What every order mail template shows."""
    return {
        "order_number": order.number,
        "status_url": order.status_url,
        "total": {"amount": order.total_amount, "currency": order.currency},
        "lines": [
            {"name": name, "quantity": quantity, "unit_price_amount": price}
            for name, quantity, price in order.lines.values_list("name", "quantity", "unit_price_amount")
        ],
    }


def order_mail_enqueue(*, order: Order, template: str, key: str, context: Mapping[str, Any]) -> Mail:
    """Record an order mail to the shopper, in their language, in the caller's transaction."""
    return mail_enqueue(
        template=template,
        recipient=order.customer.email,
        language=order.locale,
        context={**order_mail_context(order), **context},
        idempotency_key=key,
        reference=order.number,
    )


def order_event_mails(*, order: Order, event: OrderEvent) -> None:
    if event.type not in _MAIL_EVENTS:
        return
    payment = order.payments.order_by("-pk").first() if event.type in _PAYMENT_EVENTS else None
    for template, key, context in _mails_for(order=order, event=event, payment=payment):
        order_mail_enqueue(order=order, template=template, key=key, context=context)


MailPlan = tuple[str, str, dict[str, Any]]  # template, idempotency key, template context


def _mails_for(*, order: Order, event: OrderEvent, payment: Payment | None) -> list[MailPlan]:
    """The mails an event means. Keys make each mail once per order (or once per event)."""
    method = payment.method if payment else ""
    data = event.data or {}
    received_key = order_mail_key(order, MailTemplate.ORDER_RECEIVED)
    if event.type == "order.awaiting_payment" and method in _DELAYED_METHODS and payment is not None:
        # Konbini and bank transfer: the mail carries what the shopper needs to pay.
        return [(MailTemplate.ORDER_RECEIVED, received_key, _payment_instructions(payment, order))]
    if event.type == "payment.retried" and method in _DELAYED_METHODS and payment is not None:
        # Paid again another way: the new voucher or transfer instructions, in a mail of their
        # own unless the order never had one (a card declined at checkout sends none).
        sent = Mail.objects.filter(idempotency_key=received_key).exists()
        key = order_mail_key(order, MailTemplate.ORDER_RECEIVED, "payment", payment.pk) if sent else received_key
        return [(MailTemplate.ORDER_RECEIVED, key, _payment_instructions(payment, order))]
    if event.type == "order.paid":
        amount = {"amount": payment.amount_received if payment else order.total_amount, "currency": order.currency}
        if not Mail.objects.filter(idempotency_key=received_key).exists():
            # Paid at checkout (card): one mail confirms the order and its payment together.
            context = {"method": method, "paid": True, "amount_received": amount}
            return [(MailTemplate.ORDER_RECEIVED, received_key, context)]
        paid_key = order_mail_key(order, MailTemplate.PAYMENT_RECEIVED)
        return [(MailTemplate.PAYMENT_RECEIVED, paid_key, {"amount_received": amount})]
    if event.type in ("order.payment_failed", "order.expired"):
        # A failure seen live at checkout needs no mail; one on an order we confirmed does.
        if not Mail.objects.filter(idempotency_key=received_key).exists():
            return []
        if event.type == "order.expired":
            expired_key = order_mail_key(order, MailTemplate.PAYMENT_EXPIRED)
            return [(MailTemplate.PAYMENT_EXPIRED, expired_key, {"method": method})]
        # Stripe's code only: the mail words it for the shopper (its message is for developers).
        context = {"method": method, "failure_code": str(data.get("code") or "")[:_MAX_TEXT]}
        failed_key = order_mail_key(order, MailTemplate.PAYMENT_FAILED, event.sequence)
        return [(MailTemplate.PAYMENT_FAILED, failed_key, context)]
    if event.type == "refund.succeeded":
        # One mail per refund, with its own amount. order.refunded / order.partially_refunded
        # follow from the same refund (or from a lost dispute, which is no refund of ours).
        refund_id = str(data.get("refund_id") or event.sequence)
        refunded = _amount(data["amount"]) if "amount" in data else None
        context = {
            "refund": {"amount": refunded, "currency": order.currency} if refunded is not None else None,
            "full_refund": refunded is not None and refunded >= order.total_amount,
        }
        return [(MailTemplate.REFUND_ISSUED, order_mail_key(order, MailTemplate.REFUND_ISSUED, refund_id), context)]
    if event.type == "order.shipped":
        context = {key: str(data.get(key) or "")[:_MAX_TEXT] for key in ("carrier", "tracking_number", "tracking_url")}
        return [(MailTemplate.SHIPPED, order_mail_key(order, MailTemplate.SHIPPED, event.sequence), context)]
    if event.type == "order.needs_attention":
        context = {"reason": str(data.get("reason") or "")[:_MAX_TEXT]}
        return [(MailTemplate.APOLOGY, order_mail_key(order, MailTemplate.APOLOGY, event.sequence), context)]
    return []


def _amount(value: Any) -> int:
    if isinstance(value, dict):
        return int(value.get("amount", 0))
    return int(value)


def _payment_instructions(payment: Payment, order: Order) -> dict[str, Any]:
    """The konbini voucher or bank-transfer instructions, from Stripe's ``next_action``."""
    action = payment.next_action or {}
    if action.get("type") == "konbini_display_details":
        details = action.get("konbini_display_details") or {}
        expires = details.get("expires_at")
        return {
            "method": "konbini",
            "konbini": {
                "expires_at": _iso_from_unix(expires),
                "hosted_voucher_url": details.get("hosted_voucher_url") or "",
                "stores": [
                    {
                        "store": store,
                        "payment_code": (codes or {}).get("payment_code") or "",
                        "confirmation_number": (codes or {}).get("confirmation_number") or "",
                    }
                    for store, codes in sorted((details.get("stores") or {}).items())
                ],
            },
        }
    if action.get("type") == "display_bank_transfer_instructions":
        details = action.get("display_bank_transfer_instructions") or {}
        zengin = ((details.get("financial_addresses") or [{}])[0] or {}).get("zengin") or {}
        return {
            "method": "bank_transfer",
            "bank_transfer": {
                "amount_remaining": details.get("amount_remaining", payment.amount),
                "currency": str(details.get("currency") or payment.currency).upper(),
                "reference": details.get("reference") or "",
                # The order's payment window: the page and the mail name the same deadline.
                "expires_at": order.payment_expires_at.isoformat() if order.payment_expires_at else None,
                "hosted_instructions_url": details.get("hosted_instructions_url") or "",
                "bank": {
                    key: zengin.get(key) or ""
                    for key in (
                        "bank_name",
                        "bank_code",
                        "branch_name",
                        "branch_code",
                        "account_type",
                        "account_number",
                        "account_holder_name",
                    )
                },
            },
        }
    return {"method": payment.method}


def _iso_from_unix(value: Any) -> str | None:
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC).isoformat() if value else None
