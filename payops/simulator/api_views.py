"""The simulator's Stripe API endpoints (``/simulator/stripe/v1/…``): parse, call a service, render.

Each handler reads exactly the parameters the endpoint accepts and then calls
``params.reject_unknown()``, so a parameter Stripe would refuse is refused here too.
"""

from __future__ import annotations

import json
from typing import Any

from payops.simulator.api_dispatch import stripe_endpoint
from payops.simulator.errors import no_such
from payops.simulator.models import SimEvent, SimWebhookEndpoint
from payops.simulator.params import Params
from payops.simulator.services import bank_transfers, customers, payment_intents, refunds
from payops.simulator.services.payment_intents import CANCELLATION_REASONS, PaymentMethodData
from payops.simulator.services.refunds import REFUND_REASONS
from payops.simulator.services.transitions import get_intent
from payops.simulator.stripe_objects import (
    customer_json,
    payment_intent_json,
    refund_json,
    webhook_endpoint_json,
)

# --- customers -----------------------------------------------------------------------------


def _create_customer(params: Params) -> dict[str, Any]:
    email = params.text("email", max_length=512)
    name = params.text("name", max_length=256)
    metadata = params.string_map("metadata")
    params.text("description")
    params.reject_unknown()
    return customer_json(customers.create_customer(email=email, name=name, metadata=metadata))


def _retrieve_customer(params: Params, *, customer_id: str) -> dict[str, Any]:
    params.reject_unknown()
    return customer_json(customers.get_customer(customer_id))


def _fund_cash_balance(params: Params, *, customer_id: str) -> dict[str, Any]:
    amount = params.integer("amount", required=True, minimum=1)
    currency = params.text("currency", required=True).lower()
    reference = params.text("reference", max_length=64)
    params.reject_unknown()
    assert amount is not None
    return bank_transfers.fund_cash_balance(
        customer_id=customer_id, amount=amount, currency=currency, reference=reference
    )


# --- payment intents -----------------------------------------------------------------------


def _payment_method_data(params: Params) -> PaymentMethodData | None:
    if not params.has("payment_method_data"):
        return None
    data = params.nested("payment_method_data")
    method_type = data.text("type", required=True, choices=("card", "konbini", "customer_balance"))
    billing = data.nested("billing_details")
    billing_details = {
        "name": billing.text("name", max_length=256) or None,
        "email": billing.text("email", max_length=512) or None,
        "phone": billing.text("phone", max_length=64) or None,
        "address": billing.raw("address") or None,
    }
    data.string_map("metadata")
    return PaymentMethodData(type=method_type, billing_details=billing_details)


def _payment_method_options(params: Params) -> dict[str, Any]:
    """The options Stripe echoes back in ``payment_method_options``, for the types given."""
    given = params.nested("payment_method_options")
    options: dict[str, Any] = {}
    if given.has("konbini"):
        konbini = given.nested("konbini")
        options["konbini"] = {
            "confirmation_number": konbini.text("confirmation_number", max_length=11) or None,
            "expires_after_days": konbini.integer("expires_after_days"),
            "expires_at": None,
            "product_description": konbini.text("product_description", max_length=22) or None,
            "setup_future_usage": None,
        }
    if given.has("customer_balance"):
        balance = given.nested("customer_balance")
        bank_transfer = balance.nested("bank_transfer")
        options["customer_balance"] = {
            "bank_transfer": {
                "type": bank_transfer.text("type"),
                "requested_address_types": bank_transfer.text_list("requested_address_types") or ["zengin"],
            },
            "funding_type": balance.text("funding_type"),
            "setup_future_usage": None,
        }
    if given.has("card"):
        card = given.nested("card")
        options["card"] = {
            "request_three_d_secure": card.text("request_three_d_secure", choices=("automatic", "any", "challenge"))
            or "automatic",
        }
    return options


def _create_payment_intent(params: Params) -> dict[str, Any]:
    amount = params.integer("amount", required=True, minimum=1)
    currency = params.text("currency", required=True)
    method_types = params.text_list("payment_method_types")
    metadata = params.string_map("metadata")
    receipt_email = params.text("receipt_email", max_length=512)
    description = params.text("description", max_length=1000)
    customer_id = params.text("customer")
    payment_method = params.text("payment_method")
    payment_method_data = _payment_method_data(params)
    options = _payment_method_options(params)
    confirm = params.boolean("confirm")
    return_url = params.text("return_url", max_length=2048)
    params.text("capture_method", choices=("automatic", "automatic_async"))
    params.reject_unknown()
    assert amount is not None
    intent = payment_intents.create_payment_intent(
        amount=amount,
        currency=currency,
        payment_method_types=method_types,
        metadata=metadata,
        receipt_email=receipt_email,
        description=description,
        customer_id=customer_id,
        payment_method=payment_method,
        payment_method_data=payment_method_data,
        payment_method_options=options,
        confirm=confirm,
        return_url=return_url,
    )
    return payment_intent_json(intent)


def _retrieve_payment_intent(params: Params, *, intent_id: str) -> dict[str, Any]:
    params.text("client_secret")
    params.reject_unknown()
    return payment_intent_json(get_intent(intent_id))


def _confirm_payment_intent(params: Params, *, intent_id: str) -> dict[str, Any]:
    payment_method = params.text("payment_method")
    payment_method_data = _payment_method_data(params)
    options = _payment_method_options(params)
    return_url = params.text("return_url", max_length=2048)
    params.reject_unknown()
    intent = payment_intents.confirm_payment_intent(
        intent_id=intent_id,
        payment_method=payment_method,
        payment_method_data=payment_method_data,
        payment_method_options=options,
        return_url=return_url,
    )
    return payment_intent_json(intent)


def _cancel_payment_intent(params: Params, *, intent_id: str) -> dict[str, Any]:
    reason = params.text("cancellation_reason", choices=CANCELLATION_REASONS)
    params.reject_unknown()
    return payment_intent_json(payment_intents.cancel_payment_intent(intent_id=intent_id, cancellation_reason=reason))


# --- refunds -------------------------------------------------------------------------------


def _create_refund(params: Params) -> dict[str, Any]:
    payment_intent_id = params.text("payment_intent")
    charge_id = params.text("charge")
    amount = params.integer("amount", minimum=1)
    reason = params.text("reason", choices=REFUND_REASONS)
    metadata = params.string_map("metadata")
    params.reject_unknown()
    refund = refunds.create_refund(
        payment_intent_id=payment_intent_id, charge_id=charge_id, amount=amount, reason=reason, metadata=metadata
    )
    return refund_json(refund)


def _retrieve_refund(params: Params, *, refund_id: str) -> dict[str, Any]:
    params.reject_unknown()
    return refund_json(refunds.get_refund(refund_id))


# --- events and webhook endpoints ----------------------------------------------------------


def _retrieve_event(params: Params, *, event_id: str) -> dict[str, Any]:
    params.reject_unknown()
    event = SimEvent.objects.filter(stripe_id=event_id).first()
    if event is None:
        raise no_such("event", event_id)
    return json.loads(event.body)


def _create_webhook_endpoint(params: Params) -> dict[str, Any]:
    url = params.text("url", required=True, max_length=2048)
    enabled_events = params.text_list("enabled_events")
    if not enabled_events:
        params.text("enabled_events", required=True)
    description = params.text("description")
    metadata = params.string_map("metadata")
    params.text("api_version")
    params.boolean("connect")
    params.reject_unknown()
    endpoint = customers.create_webhook_endpoint(
        url=url, enabled_events=enabled_events, description=description, metadata=metadata
    )
    return webhook_endpoint_json(endpoint, with_secret=True)


def _list_webhook_endpoints(params: Params) -> dict[str, Any]:
    limit = params.integer("limit", minimum=1) or 10
    params.text("starting_after")
    params.text("ending_before")
    params.reject_unknown()
    endpoints = list(SimWebhookEndpoint.objects.order_by("-pk")[: limit + 1])
    return {
        "object": "list",
        "data": [webhook_endpoint_json(endpoint) for endpoint in endpoints[:limit]],
        "has_more": len(endpoints) > limit,
        "url": "/v1/webhook_endpoints",
    }


def _retrieve_webhook_endpoint(params: Params, *, endpoint_id: str) -> dict[str, Any]:
    params.reject_unknown()
    return webhook_endpoint_json(customers.get_webhook_endpoint(endpoint_id))


def _update_webhook_endpoint(params: Params, *, endpoint_id: str) -> dict[str, Any]:
    url = params.text("url", max_length=2048) or None
    enabled_events = params.text_list("enabled_events") or None
    description = params.text("description") if params.has("description") else None
    disabled = params.boolean("disabled") if params.has("disabled") else None
    metadata = params.string_map("metadata") if params.has("metadata") else None
    params.reject_unknown()
    endpoint = customers.update_webhook_endpoint(
        endpoint_id=endpoint_id,
        url=url,
        enabled_events=enabled_events,
        description=description,
        disabled=disabled,
        metadata=metadata,
    )
    return webhook_endpoint_json(endpoint)


def _delete_webhook_endpoint(params: Params, *, endpoint_id: str) -> dict[str, Any]:
    params.reject_unknown()
    return {
        "id": customers.delete_webhook_endpoint(endpoint_id=endpoint_id),
        "object": "webhook_endpoint",
        "deleted": True,
    }


customers_view = stripe_endpoint(post=_create_customer)
customer_view = stripe_endpoint(get=_retrieve_customer)
fund_cash_balance_view = stripe_endpoint(post=_fund_cash_balance)
payment_intents_view = stripe_endpoint(post=_create_payment_intent)
payment_intent_view = stripe_endpoint(get=_retrieve_payment_intent)
payment_intent_confirm_view = stripe_endpoint(post=_confirm_payment_intent)
payment_intent_cancel_view = stripe_endpoint(post=_cancel_payment_intent)
refunds_view = stripe_endpoint(post=_create_refund)
refund_view = stripe_endpoint(get=_retrieve_refund)
event_view = stripe_endpoint(get=_retrieve_event)
webhook_endpoints_view = stripe_endpoint(get=_list_webhook_endpoints, post=_create_webhook_endpoint)
webhook_endpoint_view = stripe_endpoint(
    get=_retrieve_webhook_endpoint, post=_update_webhook_endpoint, delete=_delete_webhook_endpoint
)
