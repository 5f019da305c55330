"""What follows from an order event, inside the transaction that wrote it.

Called by ``record_order_event`` for every event. Work that must not be lost with a crash
(outbox rows, mail rows) is written here in the same transaction; work that must not happen for
a rolled-back change (task kicks, live broadcasts) is scheduled with ``transaction.on_commit``
by the services called here.

Every event becomes an outbox row for EventBridge (``docs/events.md`` is the catalogue of the
detail shapes). Some events also mean a mail to the shopper (``_mails_for``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orders.models import Order, OrderEvent, Payment
from payops.mail.models import Mail, MailTemplate
from payops.mail.services import mail_enqueue
from payops.outbox.services import outbox_enqueue

EVENT_SOURCE = "payops.orders"

# Event data fields that are public: other systems may see them. Anything else an event carries
# (now or later) stays inside payops, so no token or secret can leak into EventBridge by accident.
_PUBLIC_DATA_FIELDS = frozenset(
    {
        "amount",
        "approved",
        "dispute",
        "failure_reason",
        "outcome",
        "amount_received",
        "amount_refunded",
        "amount_remaining",
        "carrier",
        "code",
        "lines",
        "message",
        "method",
        "payment_intent",
        "reason",
        "refund_id",
        "review",
        "total",
        "tracking_number",
        "tracking_url",
    }
)
# Staff notes and staff audit records are payops's own bookkeeping, not facts for other systems.
_UNPUBLISHED_PREFIXES = ("staff.",)
_MAX_TEXT = 500
_MAX_ITEMS = 100
_DELAYED_METHODS = frozenset({"konbini", "bank_transfer"})


def after_order_event(*, order: Order, event: OrderEvent) -> None:
    if event.type.startswith(_UNPUBLISHED_PREFIXES):
        return
    payment = order.payments.order_by("-pk").first()
    outbox_enqueue(
        source=EVENT_SOURCE,
        detail_type=event.type,
        detail=order_event_detail(order=order, event=event, payment=payment),
        aggregate=order.number,
        sequence=event.sequence,
        occurred_at=event.created_at,
    )
    for template, key, context in _mails_for(order=order, event=event, payment=payment):
        mail_enqueue(
            template=template,
            recipient=order.customer.email,
            language=order.locale,
            context={**_order_context(order), **context},
            idempotency_key=f"order:{order.number}:{key}",
            reference=order.number,
        )


def order_event_detail(*, order: Order, event: OrderEvent, payment: Payment | None) -> dict[str, Any]:
    """The EventBridge detail: small, token-free; consumers fetch more through the API."""
    return {
        "sequence": event.sequence,
        "occurred_at": event.created_at.isoformat(),
        "order": {
            "number": order.number,
            "status": order.status,
            "total": {"amount": order.total_amount, "currency": order.currency},
            "payment_method": payment.method if payment else None,
            "locale": order.locale,
        },
        "transition": {"from": event.from_status or None, "to": event.to_status} if event.to_status else None,
        "cause": event.cause,
        "data": _public_data(event.data),
    }


def _public_data(data: dict[str, Any]) -> dict[str, Any]:
    public: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _PUBLIC_DATA_FIELDS:
            continue
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:  # money
            public[key] = {"amount": int(value["amount"]), "currency": str(value["currency"])}
        elif isinstance(value, list):  # e.g. lines: [{"sku": ..., "quantity": ...}]
            items = [_flat(item) for item in value[:_MAX_ITEMS] if isinstance(item, dict)]
            public[key] = [item for item in items if item]
        elif _is_scalar(value):
            public[key] = value[:_MAX_TEXT] if isinstance(value, str) else value
    return public


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int))


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """A list item keeps only its scalar fields: nothing nested travels."""
    return {k: (v[:_MAX_TEXT] if isinstance(v, str) else v) for k, v in item.items() if _is_scalar(v)}


# --- mails --------------------------------------------------------------------------------------

MailPlan = tuple[str, str, dict[str, Any]]  # template, idempotency key suffix, template context


def _mails_for(*, order: Order, event: OrderEvent, payment: Payment | None) -> list[MailPlan]:
    """The mails an event means. Keys make each mail once per order (or once per event)."""
    method = payment.method if payment else ""
    data = event.data or {}
    received_key = f"order:{order.number}:{MailTemplate.ORDER_RECEIVED}"
    if event.type == "order.awaiting_payment" and method in _DELAYED_METHODS and payment is not None:
        # Konbini and bank transfer: the mail carries what the shopper needs to pay.
        return [(MailTemplate.ORDER_RECEIVED, MailTemplate.ORDER_RECEIVED, _payment_instructions(payment))]
    if event.type == "order.paid":
        amount = {"amount": payment.amount_received if payment else order.total_amount, "currency": order.currency}
        if not Mail.objects.filter(idempotency_key=received_key).exists():
            # Paid at checkout (card): one mail confirms the order and its payment together.
            context = {"method": method, "paid": True, "amount_received": amount}
            return [(MailTemplate.ORDER_RECEIVED, MailTemplate.ORDER_RECEIVED, context)]
        return [(MailTemplate.PAYMENT_RECEIVED, MailTemplate.PAYMENT_RECEIVED, {"amount_received": amount})]
    if event.type in ("order.payment_failed", "order.expired"):
        # A failure seen live at checkout needs no mail; one on an order we confirmed does.
        if not Mail.objects.filter(idempotency_key=received_key).exists():
            return []
        if event.type == "order.expired":
            return [(MailTemplate.PAYMENT_EXPIRED, MailTemplate.PAYMENT_EXPIRED, {"method": method})]
        context = {"method": method, "reason": str(data.get("message") or data.get("code") or "")[:_MAX_TEXT]}
        return [(MailTemplate.PAYMENT_FAILED, f"{MailTemplate.PAYMENT_FAILED}:{event.sequence}", context)]
    if event.type == "refund.succeeded":
        # One mail per refund, with its own amount. order.refunded / order.partially_refunded
        # follow from the same refund (or from a lost dispute, which is no refund of ours).
        refund_id = str(data.get("refund_id") or event.sequence)
        refunded = _amount(data["amount"]) if "amount" in data else None
        context = {
            "refund": {"amount": refunded, "currency": order.currency} if refunded is not None else None,
            "full_refund": refunded is not None and refunded >= order.total_amount,
        }
        return [(MailTemplate.REFUND_ISSUED, f"{MailTemplate.REFUND_ISSUED}:{refund_id}", context)]
    if event.type == "order.shipped":
        context = {key: str(data.get(key) or "")[:_MAX_TEXT] for key in ("carrier", "tracking_number", "tracking_url")}
        return [(MailTemplate.SHIPPED, f"{MailTemplate.SHIPPED}:{event.sequence}", context)]
    if event.type == "order.needs_attention":
        context = {"reason": str(data.get("reason") or "")[:_MAX_TEXT]}
        return [(MailTemplate.APOLOGY, f"{MailTemplate.APOLOGY}:{event.sequence}", context)]
    return []


def _amount(value: Any) -> int:
    if isinstance(value, dict):
        return int(value.get("amount", 0))
    return int(value)


def _order_context(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.number,
        "status_url": order.status_url,
        "total": {"amount": order.total_amount, "currency": order.currency},
        "lines": [
            {"name": name, "quantity": quantity, "unit_price_amount": price}
            for name, quantity, price in order.lines.values_list("name", "quantity", "unit_price_amount")
        ],
    }


def _payment_instructions(payment: Payment) -> dict[str, Any]:
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
