"""Reads for the simulator's HTML pages: rows shaped for display, amounts formatted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payops.money import Money, MoneyError
from payops.simulator.models import IntentStatus, SimEvent, SimPaymentIntent
from payops.simulator.stripe_objects import next_action_json
from payops.simulator.test_cards import card_behaviour

METHOD_LABELS = {"card": "Card", "konbini": "Konbini", "customer_balance": "Bank transfer"}


def format_amount(amount: int, currency: str) -> str:
    try:
        return Money(amount, currency).format()
    except MoneyError:
        return f"{amount} {currency.upper()}"


@dataclass(frozen=True)
class IntentView:
    intent: SimPaymentIntent
    next_action: dict[str, Any] | None

    @property
    def amount(self) -> str:
        return format_amount(self.intent.amount, self.intent.currency)

    @property
    def amount_remaining(self) -> str:
        return format_amount(self.intent.amount_remaining, self.intent.currency)

    @property
    def method_label(self) -> str:
        method = self.intent.payment_method_type
        if method == "card" and (behaviour := card_behaviour(self.intent.test_card)):
            return f"Card ({behaviour.brand} •••• {behaviour.last4})"
        return METHOD_LABELS.get(method, method or "—")

    @property
    def awaiting_voucher_payment(self) -> bool:
        return self.intent.status == IntentStatus.REQUIRES_ACTION and self.intent.payment_method_type == "konbini"

    @property
    def awaiting_transfer(self) -> bool:
        return (
            self.intent.status == IntentStatus.REQUIRES_ACTION and self.intent.payment_method_type == "customer_balance"
        )

    @property
    def awaiting_authentication(self) -> bool:
        return self.intent.status == IntentStatus.REQUIRES_ACTION and self.intent.payment_method_type == "card"

    @property
    def failure(self) -> str:
        error = self.intent.last_payment_error or {}
        return error.get("decline_code") or error.get("code") or ""

    @property
    def konbini(self) -> dict[str, Any]:
        return (self.next_action or {}).get("konbini_display_details") or {}

    @property
    def bank_transfer(self) -> dict[str, Any]:
        return (self.next_action or {}).get("display_bank_transfer_instructions") or {}

    @property
    def zengin(self) -> dict[str, Any]:
        addresses = self.bank_transfer.get("financial_addresses") or [{}]
        return addresses[0].get("zengin") or {}

    @property
    def expires_at(self) -> datetime | None:
        return self.intent.konbini_expires_at


def intent_view(intent: SimPaymentIntent) -> IntentView:
    return IntentView(intent=intent, next_action=next_action_json(intent))


def dashboard_intents(*, limit: int = 100) -> list[IntentView]:
    intents = SimPaymentIntent.objects.select_related("customer").order_by("-pk")[:limit]
    return [intent_view(intent) for intent in intents]


def recent_events(*, limit: int = 50) -> list[SimEvent]:
    return list(SimEvent.objects.order_by("-pk").defer("body")[:limit])
