"""Words the dashboard shows for workflow internals, in the staff member's language.

The workflow engine and the API keep their stable English codes ("waits until", "waiting",
"task"); these are only how a page says them.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.state_machine import OrderStatus
from payops.money import Money

DUE_LABELS = {
    "runs at": _("runs at"),
    "retry at": _("retries at"),
    "lease ends": _("lease ends at"),
    "waits until": _("waits until"),
    "approval times out": _("approval times out at"),
    "signal times out": _("signal times out at"),
}

STEP_STATUSES = {
    "scheduled": pgettext_lazy("workflow step", "scheduled"),
    "running": pgettext_lazy("workflow step", "running"),
    "waiting": pgettext_lazy("workflow step", "waiting"),
    "succeeded": pgettext_lazy("workflow step", "succeeded"),
    "failed": pgettext_lazy("workflow step", "failed"),
    "cancelled": pgettext_lazy("workflow step", "cancelled"),
    "aborted": pgettext_lazy("workflow step", "aborted"),
}

STEP_KINDS = {
    "task": pgettext_lazy("workflow step kind", "task"),
    "choice": pgettext_lazy("workflow step kind", "choice"),
    "wait": pgettext_lazy("workflow step kind", "wait"),
    "approval": pgettext_lazy("workflow step kind", "approval"),
    "succeed": pgettext_lazy("workflow step kind", "end"),
    "fail": pgettext_lazy("workflow step kind", "failure"),
}


def due_label(code: str) -> str:
    return str(DUE_LABELS.get(code, code))


def step_status(code: str) -> str:
    return str(STEP_STATUSES.get(code, code))


def step_kind(code: str) -> str:
    return str(STEP_KINDS.get(code, code))


# --- facts: the data of events, workflow steps and approvals, as labelled values ---------------

FACT_LABELS = {
    "amount": _("Amount"),
    "amount_received": _("Amount received"),
    "amount_refunded": _("Amount refunded"),
    "amount_remaining": _("Still to arrive"),
    "currency": _("Currency"),
    "reason": _("Reason"),
    "reasons": _("Reasons"),
    "code": _("Code"),
    "message": _("Message"),
    "carrier": _("Carrier"),
    "tracking_number": _("Tracking number"),
    "tracking_url": _("Tracking URL"),
    "refund_id": _("Refund"),
    "payment_intent": _("PaymentIntent"),
    "decision": _("Decision"),
    "note": _("Note"),
    "risk_level": _("Risk level"),
    "first_order": _("First order"),
    "needed": _("Approval needed"),
    "status": _("Status"),
    "digital": _("Digital goods"),
    "assumed_after_days": _("Assumed delivered after (days)"),
    "dispute": _("Dispute"),
    "outcome": _("Outcome"),
    "mail": _("Mail"),
    "returned": _("Stock returned"),
    "refunded": _("Refunded"),
    "detail": _("Detail"),
    "method": _("Payment method"),
    "total": _("Total"),
    "lines": _("Items"),
    "template": _("Mail template"),
    "stock_state": _("Stock"),
    "next": _("Next step"),
    "locale": _("Language"),
    "reference": _("Reference"),
}

# Workflow reasons and decisions are codes; staff read them as words.
CODE_LABELS = {
    "amount_over_threshold": _("amount over the review threshold"),
    "first_order_over_threshold": _("first order over its review threshold"),
    "radar_review_open": _("Stripe Radar review open"),
    "risk_elevated": _("Radar risk elevated"),
    "risk_highest": _("Radar risk highest"),
    "approved": pgettext_lazy("decision", "approved"),
    "rejected": pgettext_lazy("decision", "rejected"),
    "normal": pgettext_lazy("risk level", "normal"),
    "elevated": pgettext_lazy("risk level", "elevated"),
    "highest": pgettext_lazy("risk level", "highest"),
}

_MONEY_KEYS = frozenset({"amount", "amount_received", "amount_refunded", "amount_remaining", "total"})
_HIDDEN_KEYS = frozenset({"currency", "text", "order_id"})


def _word(value: object) -> str:
    if isinstance(value, dict):
        if "sku" in value and "quantity" in value:  # an order line
            return f"{value['sku']} × {value['quantity']}"
        return "; ".join(f"{label}: {shown}" for label, shown in labelled_facts(value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str):
        if value in CODE_LABELS:
            return str(CODE_LABELS[value])
        return str(OrderStatus(value).label) if value in OrderStatus.values else value
    if isinstance(value, list | tuple):
        return ", ".join(_word(item) for item in value) or "—"
    return str(value)


def labelled_facts(data: object, *, currency: str = "") -> list[tuple[str, str]]:
    """A dict as (label, value) pairs a person reads: known keys named, money formatted in the
    page's language, codes in words, nested dicts flattened ("Refund · Amount")."""
    if not isinstance(data, dict):
        return [] if data in (None, "", [], {}) else [("", _word(data))]
    currency = str(data.get("currency") or currency)
    facts: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in _HIDDEN_KEYS or value in (None, "", [], {}):
            continue
        label = str(FACT_LABELS.get(key, key.replace("_", " ")))
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:
            facts.append(
                (label, Money(int(value["amount"]), str(value["currency"])).format(translation.get_language() or "en"))
            )
        elif isinstance(value, dict):
            facts.extend(
                (f"{label} · {sub}" if sub else label, shown) for sub, shown in labelled_facts(value, currency=currency)
            )
        elif key in _MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool) and currency:
            facts.append((label, Money(value, currency).format(translation.get_language() or "en")))
        else:
            facts.append((label, _word(value)))
    return facts


# Stripe's PaymentIntent statuses and payops's own for a payment not yet at Stripe.
PAYMENT_STATUSES = {
    "creating": pgettext_lazy("payment", "being set up"),
    "setup_failed": pgettext_lazy("payment", "could not be set up"),
    "requires_payment_method": pgettext_lazy("payment", "waiting for a payment method"),
    "requires_confirmation": pgettext_lazy("payment", "waiting for confirmation"),
    "requires_action": pgettext_lazy("payment", "waiting for the shopper"),
    "processing": pgettext_lazy("payment", "processing"),
    "requires_capture": pgettext_lazy("payment", "authorised"),
    "succeeded": pgettext_lazy("payment", "succeeded"),
    "canceled": pgettext_lazy("payment", "cancelled"),
}


def payment_status(code: str) -> str:
    return str(PAYMENT_STATUSES.get(code, code))


TIMELINE_SOURCES = {
    "event": pgettext_lazy("timeline source", "order"),
    "payment": pgettext_lazy("timeline source", "payment"),
    "refund": pgettext_lazy("timeline source", "refund"),
    "dispute": pgettext_lazy("timeline source", "dispute"),
    "webhook": pgettext_lazy("timeline source", "webhook"),
    "outbox": pgettext_lazy("timeline source", "event bus"),
    "mail": pgettext_lazy("timeline source", "mail"),
    "workflow": pgettext_lazy("timeline source", "workflow"),
}


def timeline_source(code: str) -> str:
    return str(TIMELINE_SOURCES.get(code, code))
