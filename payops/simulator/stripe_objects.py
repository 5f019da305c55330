"""The simulator's rows rendered as the JSON objects the Stripe API returns.

Field names and nesting follow Stripe's API reference (and stripe-python's typed resources) so
``StripeGateway`` and payops's webhook handling read simulator output exactly as they read
Stripe's. Fields the simulator has no notion of are present with Stripe's empty value.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from stripe._api_version import _ApiVersion

from payops.simulator.models import (
    IntentStatus,
    SimCharge,
    SimCustomer,
    SimPaymentIntent,
    SimRefund,
    SimWebhookEndpoint,
)
from payops.simulator.test_cards import card_behaviour

_ID_ALPHABET = string.ascii_letters + string.digits

# The simulator's one receiving account for Japanese bank transfers. Each customer gets its own
# account number, as Stripe issues a virtual account per customer.
SIMULATOR_BANK = {
    "account_holder_name": "ペイオプス テスト",
    "account_type": "futsu",
    "bank_code": "0999",
    "bank_name": "シミュレータ銀行",
    "branch_code": "001",
    "branch_name": "テスト支店",
}


def api_version() -> str:
    """The API version of the installed stripe library: what payops's gateway asks for."""
    return _ApiVersion.CURRENT


def random_token(length: int = 24) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_stripe_id(prefix: str) -> str:
    """Stripe-looking id: prefix, underscore, 24 random alphanumerics (``pi_3Pk…``)."""
    return f"{prefix}_{random_token()}"


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def absolute_url(view_name: str, *args: str) -> str:
    """Pages Stripe hosts (voucher, 3-D Secure) are linked absolutely, from PAYOPS_BASE_URL."""
    return f"{settings.PAYOPS_BASE_URL}{reverse(view_name, args=args)}"


def customer_json(customer: SimCustomer) -> dict[str, Any]:
    return {
        "id": customer.stripe_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": unix(customer.created),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": customer.email or None,
        "invoice_prefix": customer.stripe_id[-8:].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": customer.metadata,
        "name": customer.name or None,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def zengin_account_number(customer: SimCustomer) -> str:
    return f"{customer.pk % 10_000_000:07d}"


def next_action_json(intent: SimPaymentIntent) -> dict[str, Any] | None:
    if intent.status != IntentStatus.REQUIRES_ACTION:
        return None
    if intent.payment_method_type == "card":
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": absolute_url("simulator:three_d_secure", intent.stripe_id),
                "return_url": intent.return_url or None,
            },
        }
    if intent.payment_method_type == "konbini":
        return {
            "type": "konbini_display_details",
            "konbini_display_details": {
                "expires_at": unix(intent.konbini_expires_at),
                "hosted_voucher_url": absolute_url("simulator:voucher", intent.stripe_id),
                "stores": intent.konbini_stores,
            },
        }
    if intent.payment_method_type == "customer_balance":
        assert intent.customer is not None, "bank transfer intents always have a customer"
        return {
            "type": "display_bank_transfer_instructions",
            "display_bank_transfer_instructions": {
                "amount_remaining": intent.amount_remaining,
                "currency": intent.currency,
                "financial_addresses": [
                    {
                        "type": "zengin",
                        "supported_networks": ["zengin"],
                        "zengin": {**SIMULATOR_BANK, "account_number": zengin_account_number(intent.customer)},
                    }
                ],
                "hosted_instructions_url": absolute_url("simulator:transfer_instructions", intent.stripe_id),
                "reference": intent.bank_transfer_reference,
                "type": "jp_bank_transfer",
            },
        }
    return None


def payment_intent_json(intent: SimPaymentIntent) -> dict[str, Any]:
    latest_charge = intent.charges.order_by("-pk").values_list("stripe_id", flat=True).first()
    return {
        "id": intent.stripe_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": intent.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": unix(intent.canceled_at),
        "cancellation_reason": intent.cancellation_reason or None,
        "capture_method": "automatic",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": unix(intent.created),
        "currency": intent.currency,
        "customer": intent.customer.stripe_id if intent.customer else None,
        "description": intent.description or None,
        "last_payment_error": intent.last_payment_error,
        "latest_charge": latest_charge,
        "livemode": False,
        "metadata": intent.metadata,
        "next_action": next_action_json(intent),
        "on_behalf_of": None,
        "payment_method": intent.payment_method or None,
        "payment_method_configuration_details": None,
        "payment_method_options": intent.payment_method_options,
        "payment_method_types": intent.payment_method_types,
        "processing": None,
        "receipt_email": intent.receipt_email or None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": intent.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def payment_method_details_json(intent: SimPaymentIntent) -> dict[str, Any]:
    if intent.payment_method_type == "card":
        behaviour = card_behaviour(intent.test_card)
        return {
            "type": "card",
            "card": {
                "brand": behaviour.brand if behaviour else "visa",
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": behaviour.last4 if behaviour else "4242",
                "network": behaviour.brand if behaviour else "visa",
                "three_d_secure": None,
            },
        }
    if intent.payment_method_type == "konbini":
        return {"type": "konbini", "konbini": {"store": {"chain": "familymart"}}}
    return {"type": intent.payment_method_type, intent.payment_method_type: {}}


def payment_method_json(intent: SimPaymentIntent, *, payment_method: str) -> dict[str, Any]:
    """The PaymentMethod as Stripe nests it in ``last_payment_error.payment_method``."""
    details = payment_method_details_json(intent)
    method_type = details["type"]
    return {
        "id": payment_method,
        "object": "payment_method",
        "billing_details": {
            "address": intent.billing_details.get("address"),
            "email": intent.billing_details.get("email"),
            "name": intent.billing_details.get("name"),
            "phone": intent.billing_details.get("phone"),
        },
        "created": unix(intent.created),
        "customer": intent.customer.stripe_id if intent.customer else None,
        "livemode": False,
        "metadata": {},
        "type": method_type,
        method_type: {} if method_type == "konbini" else details[method_type],
    }


def refund_json(refund: SimRefund) -> dict[str, Any]:
    return {
        "id": refund.stripe_id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": refund.charge.stripe_id,
        "created": unix(refund.created),
        "currency": refund.currency,
        "destination_details": None,
        "metadata": refund.metadata,
        "payment_intent": refund.charge.payment_intent.stripe_id,
        "reason": refund.reason or None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }


def charge_json(charge: SimCharge) -> dict[str, Any]:
    intent = charge.payment_intent
    refunds = [refund_json(refund) for refund in charge.refunds.order_by("-pk")]
    return {
        "id": charge.stripe_id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount,
        "amount_refunded": charge.amount_refunded,
        "balance_transaction": None,
        "billing_details": {
            "address": intent.billing_details.get("address"),
            "email": intent.billing_details.get("email"),
            "name": intent.billing_details.get("name"),
            "phone": intent.billing_details.get("phone"),
        },
        "captured": True,
        "created": unix(charge.created),
        "currency": charge.currency,
        "customer": intent.customer.stripe_id if intent.customer else None,
        "description": intent.description or None,
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": intent.metadata,
        "outcome": {"network_status": "approved_by_network", "reason": None, "type": "authorized"},
        "paid": True,
        "payment_intent": intent.stripe_id,
        "payment_method": intent.payment_method or None,
        "payment_method_details": payment_method_details_json(intent),
        "receipt_email": intent.receipt_email or None,
        "refunded": charge.amount_refunded >= charge.amount,
        "refunds": {
            "object": "list",
            "data": refunds,
            "has_more": False,
            "total_count": len(refunds),
            "url": f"/v1/charges/{charge.stripe_id}/refunds",
        },
        "status": "succeeded",
    }


def webhook_endpoint_json(endpoint: SimWebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": endpoint.stripe_id,
        "object": "webhook_endpoint",
        "api_version": api_version(),
        "application": None,
        "created": unix(endpoint.created),
        "description": endpoint.description or None,
        "enabled_events": endpoint.enabled_events,
        "livemode": False,
        "metadata": endpoint.metadata,
        "status": "disabled" if endpoint.disabled else "enabled",
        "url": endpoint.url,
    }
    # Stripe shows the signing secret only in the response that creates the endpoint.
    if with_secret:
        data["secret"] = endpoint.secret
    return data
