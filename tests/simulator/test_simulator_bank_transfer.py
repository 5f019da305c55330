from __future__ import annotations

import pytest
import stripe
from django.test import Client

from payops.money import Money
from payops.simulator.models import SimCustomer
from payops.stripe.gateway import GatewayError, StripeGateway
from tests.simulator.helpers import create_bank_transfer_intent, event_payloads, event_types


def test_bank_transfer_shows_zengin_instructions(gateway: StripeGateway) -> None:
    intent = create_bank_transfer_intent(gateway, amount=10_000)

    assert intent.status == "requires_action"
    assert intent.amount_remaining == 10_000
    action = intent.next_action
    assert action is not None
    assert action["type"] == "display_bank_transfer_instructions"
    instructions = action["display_bank_transfer_instructions"]
    assert instructions["type"] == "jp_bank_transfer"
    assert instructions["currency"] == "jpy"
    assert instructions["reference"]
    assert instructions["hosted_instructions_url"] == f"http://testserver/simulator/transfers/{intent.id}/"
    (address,) = instructions["financial_addresses"]
    assert address["type"] == "zengin"
    assert address["supported_networks"] == ["zengin"]
    assert set(address["zengin"]) == {
        "account_holder_name",
        "account_number",
        "account_type",
        "bank_code",
        "bank_name",
        "branch_code",
        "branch_name",
    }
    assert address["zengin"]["account_type"] == "futsu"


def test_bank_transfer_needs_a_customer(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(
            params={
                "amount": 5000,
                "currency": "jpy",
                "payment_method_types": ["customer_balance"],
                "payment_method_data": {"type": "customer_balance"},
                "payment_method_options": {
                    "customer_balance": {"funding_type": "bank_transfer", "bank_transfer": {"type": "jp_bank_transfer"}}
                },
                "confirm": True,
            }
        )

    assert caught.value.param == "customer"


def test_partial_then_full_funding(gateway: StripeGateway, stripe_client: stripe.StripeClient) -> None:
    intent = create_bank_transfer_intent(gateway, amount=10_000)
    customer_id = SimCustomer.objects.get().stripe_id

    funded = stripe_client.v1.test_helpers.customers.fund_cash_balance(
        customer_id, params={"amount": 4_000, "currency": "jpy"}
    )

    assert funded.object == "customer_cash_balance_transaction"
    assert funded.type == "funded"
    assert funded.net_amount == 4_000
    assert funded.ending_balance == 0
    partial = gateway.retrieve_payment_intent(intent.id)
    assert partial.status == "requires_action"
    assert partial.amount_remaining == 6_000
    assert partial.amount_received == 0
    assert event_types(intent.id)[-1] == "payment_intent.partially_funded"
    partially_funded = event_payloads("payment_intent.partially_funded")[-1]["data"]["object"]
    assert partially_funded["next_action"]["display_bank_transfer_instructions"]["amount_remaining"] == 6_000

    stripe_client.v1.test_helpers.customers.fund_cash_balance(customer_id, params={"amount": 6_000, "currency": "jpy"})

    paid = gateway.retrieve_payment_intent(intent.id)
    assert paid.status == "succeeded"
    assert paid.amount_received == 10_000
    assert paid.next_action is None
    assert event_types(intent.id)[-1] == "payment_intent.succeeded"


def test_funding_matches_the_intent_by_reference(gateway: StripeGateway, stripe_client: stripe.StripeClient) -> None:
    customer_id = gateway.create_customer(email="shopper@example.jp", idempotency_key="customer-1")
    older = create_bank_transfer_intent(gateway, amount=3_000, key="order-1", customer_id=customer_id)
    newer = create_bank_transfer_intent(gateway, amount=5_000, key="order-2", customer_id=customer_id)
    assert newer.next_action is not None
    reference = newer.next_action["display_bank_transfer_instructions"]["reference"]

    stripe_client.v1.test_helpers.customers.fund_cash_balance(
        customer_id, params={"amount": 5_000, "currency": "jpy", "reference": reference}
    )

    assert gateway.retrieve_payment_intent(newer.id).status == "succeeded"
    assert gateway.retrieve_payment_intent(older.id).status == "requires_action"


def test_overpayment_stays_in_the_cash_balance_and_pays_the_next_intent(
    gateway: StripeGateway, stripe_client: stripe.StripeClient
) -> None:
    customer_id = gateway.create_customer(email="shopper@example.jp", idempotency_key="customer-1")
    first = create_bank_transfer_intent(gateway, amount=3_000, key="order-1", customer_id=customer_id)

    funded = stripe_client.v1.test_helpers.customers.fund_cash_balance(
        customer_id, params={"amount": 5_000, "currency": "jpy"}
    )
    assert funded.ending_balance == 2_000
    assert gateway.retrieve_payment_intent(first.id).status == "succeeded"

    second = create_bank_transfer_intent(gateway, amount=2_000, key="order-2", customer_id=customer_id)

    assert second.status == "succeeded"


def test_dashboard_buttons_fund_partially_then_fully(gateway: StripeGateway, client: Client) -> None:
    intent = create_bank_transfer_intent(gateway, amount=10_000)

    client.post(f"/simulator/transfers/{intent.id}/fund/", {"amount": "2500"})
    assert gateway.retrieve_payment_intent(intent.id).amount_remaining == 7_500
    page = client.get(f"/simulator/transfers/{intent.id}/")
    assert "¥7,500".encode() in page.content

    client.post(f"/simulator/transfers/{intent.id}/fund/", {"full": "1"})

    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_canceling_a_partly_funded_intent_returns_the_money_to_the_cash_balance(
    gateway: StripeGateway, stripe_client: stripe.StripeClient
) -> None:
    intent = create_bank_transfer_intent(gateway, amount=10_000)
    customer = SimCustomer.objects.get()
    stripe_client.v1.test_helpers.customers.fund_cash_balance(
        customer.stripe_id, params={"amount": 4_000, "currency": "jpy"}
    )

    canceled = gateway.cancel_payment_intent(intent.id, idempotency_key="cancel-1")

    assert canceled.status == "canceled"
    customer.refresh_from_db()
    assert customer.cash_balance == {"jpy": 4_000}


def test_bank_transfer_in_usd_is_refused(gateway: StripeGateway) -> None:
    customer_id = gateway.create_customer(email="shopper@example.com", idempotency_key="customer-usd")
    with pytest.raises(GatewayError):
        gateway.create_payment_intent(
            amount=Money(5000, "USD"),
            method="bank_transfer",
            email="shopper@example.com",
            idempotency_key="order-usd",
            metadata={},
            customer_id=customer_id,
        )
