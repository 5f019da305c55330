from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from django.test import Client

from payops.simulator.models import SimPaymentIntent, SimRefund
from payops.stripe.gateway import GatewayError, StripeGateway
from tests.simulator.clients import DjangoClientHTTPClient, simulator_gateway, simulator_stripe_client
from tests.simulator.helpers import (
    AUTH,
    api_post,
    create_card_intent,
    create_konbini_intent,
    event_payloads,
    event_types,
)

# --- cancel ----------------------------------------------------------------------------------


def test_cancel_an_open_intent(gateway: StripeGateway) -> None:
    intent = create_konbini_intent(gateway)

    canceled = gateway.cancel_payment_intent(intent.id, idempotency_key="cancel-1")

    assert canceled.status == "canceled"
    stored = SimPaymentIntent.objects.get(stripe_id=intent.id)
    assert stored.cancellation_reason == "abandoned"
    assert stored.canceled_at is not None
    assert event_types(intent.id)[-1] == "payment_intent.canceled"


def test_a_succeeded_intent_cannot_be_canceled(gateway: StripeGateway) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_visa")

    with pytest.raises(GatewayError) as caught:
        gateway.cancel_payment_intent(intent.id, idempotency_key="cancel-1")

    assert caught.value.code == "payment_intent_unexpected_state"
    assert "status of succeeded" in str(caught.value)
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


# --- refunds ---------------------------------------------------------------------------------


def test_partial_then_remaining_refund(gateway: StripeGateway, stripe_client: stripe.StripeClient) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_visa")

    first = gateway.create_refund(intent_id=intent.id, amount=500, reason="damaged", idempotency_key="refund-1")
    rest = stripe_client.v1.refunds.create(params={"payment_intent": intent.id})

    assert first.id.startswith("re_")
    assert (first.status, first.amount, first.currency, first.payment_intent) == ("succeeded", 500, "JPY", intent.id)
    assert rest.amount == 1000
    assert stripe_client.v1.refunds.retrieve(first.id).metadata.to_dict() == {"reason": "damaged"}
    charge_events = event_payloads("charge.refunded")
    assert [event["data"]["object"]["amount_refunded"] for event in charge_events] == [500, 1500]
    last_charge = charge_events[-1]["data"]["object"]
    assert last_charge["object"] == "charge"
    assert last_charge["payment_intent"] == intent.id
    assert last_charge["refunded"] is True
    assert last_charge["refunds"]["total_count"] == 2
    assert [event["data"]["object"]["id"] for event in event_payloads("refund.created")] == [first.id, rest.id]


def test_refunding_more_than_was_charged_is_refused(gateway: StripeGateway) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_visa")
    gateway.create_refund(intent_id=intent.id, amount=1000, reason="", idempotency_key="refund-1")

    with pytest.raises(GatewayError) as too_much:
        gateway.create_refund(intent_id=intent.id, amount=501, reason="", idempotency_key="refund-2")
    gateway.create_refund(intent_id=intent.id, amount=500, reason="", idempotency_key="refund-3")
    with pytest.raises(GatewayError) as already:
        gateway.create_refund(intent_id=intent.id, amount=1, reason="", idempotency_key="refund-4")

    assert too_much.value.code == "amount_too_large"
    assert already.value.code == "charge_already_refunded"
    assert sum(SimRefund.objects.values_list("amount", flat=True)) == 1500


def test_an_unpaid_intent_cannot_be_refunded(gateway: StripeGateway) -> None:
    intent = create_konbini_intent(gateway)

    with pytest.raises(GatewayError) as caught:
        gateway.create_refund(intent_id=intent.id, amount=100, reason="", idempotency_key="refund-1")

    assert caught.value.code == "charge_not_refundable"


# --- idempotency -----------------------------------------------------------------------------


def test_same_idempotency_key_and_params_replays_the_first_response(client: Client) -> None:
    params = {"amount": "1500", "currency": "jpy", "payment_method": "pm_card_visa", "confirm": "true"}

    status, first, _ = api_post(client, "payment_intents", params, **{"Idempotency-Key": "order-7"})
    replay_status, replay, response = api_post(client, "payment_intents", params, **{"Idempotency-Key": "order-7"})

    assert status == replay_status == 200
    assert replay == first
    assert response["Idempotent-Replayed"] == "true"
    assert SimPaymentIntent.objects.count() == 1
    assert event_types(first["id"]) == ["payment_intent.created", "payment_intent.succeeded"]


def test_a_replayed_decline_is_the_same_402(client: Client) -> None:
    params = {"amount": "1500", "currency": "jpy", "payment_method": "pm_card_chargeDeclined", "confirm": "true"}

    status, first, _ = api_post(client, "payment_intents", params, **{"Idempotency-Key": "order-8"})
    replay_status, replay, response = api_post(client, "payment_intents", params, **{"Idempotency-Key": "order-8"})

    assert status == replay_status == 402
    assert replay == first
    assert first["error"]["decline_code"] == "generic_decline"
    assert first["error"]["payment_intent"]["status"] == "requires_payment_method"
    assert response["Idempotent-Replayed"] == "true"
    assert SimPaymentIntent.objects.count() == 1


def test_gateway_retry_with_the_same_key_returns_the_same_intent(gateway: StripeGateway) -> None:
    first = create_konbini_intent(gateway, key="order-9-payment")
    again = create_konbini_intent(gateway, key="order-9-payment")

    assert again == first
    assert SimPaymentIntent.objects.count() == 1


def test_same_key_with_other_params_is_an_idempotency_error(gateway: StripeGateway, client: Client) -> None:
    create_konbini_intent(gateway, amount=1500, key="order-10")

    with pytest.raises(GatewayError):
        create_konbini_intent(gateway, amount=1600, key="order-10")
    status, body, _ = api_post(
        client, "payment_intents", {"amount": "1600", "currency": "jpy"}, **{"Idempotency-Key": "order-10"}
    )

    assert status == 400
    assert body["error"]["type"] == "idempotency_error"
    assert SimPaymentIntent.objects.count() == 1


def test_validation_errors_are_not_stored_for_replay(client: Client) -> None:
    bad = {"amount": "10", "currency": "jpy"}
    good = {"amount": "1500", "currency": "jpy"}

    status, body, _ = api_post(client, "payment_intents", bad, **{"Idempotency-Key": "order-11"})
    assert (status, body["error"]["code"]) == (400, "amount_too_small")
    # Stripe stores nothing for a request refused before it ran, so the key is still free.
    status, _, _ = api_post(client, "payment_intents", bad, **{"Idempotency-Key": "order-11"})
    assert status == 400
    assert SimPaymentIntent.objects.count() == 0
    status, _, _ = api_post(client, "payment_intents", good, **{"Idempotency-Key": "order-12"})
    assert status == 200


# --- authentication, errors, switch ----------------------------------------------------------


def test_missing_key_is_a_401_authentication_error(client: Client) -> None:
    response = client.post("/simulator/stripe/v1/customers", {"email": "a@example.jp"})

    assert response.status_code == 401
    assert json.loads(response.content)["error"]["type"] == "authentication_error"


def test_wrong_key_raises_stripe_authentication_error() -> None:
    stripe_client = simulator_stripe_client(api_key="sk_test_not_the_right_one")

    with pytest.raises(stripe.AuthenticationError):
        stripe_client.v1.customers.create(params={"email": "a@example.jp"})


def test_wrong_key_through_the_gateway_is_a_gateway_error() -> None:
    gateway = simulator_gateway(api_key="sk_test_not_the_right_one")

    with pytest.raises(GatewayError):
        gateway.create_customer(email="a@example.jp", idempotency_key="customer-x")


def test_unknown_intent_is_a_404_resource_missing(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.retrieve("pi_doesnotexist")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_unknown_parameter_is_refused_with_its_name(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(
            params={"amount": 1500, "currency": "jpy", "payment_method_data": {"type": "konbini", "colour": "red"}}  # type: ignore[typeddict-unknown-key]
        )

    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "payment_method_data[colour]"


def test_missing_amount_names_the_param(client: Client) -> None:
    status, body, _ = api_post(client, "payment_intents", {"currency": "jpy"})

    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == "amount"


def test_unknown_url_is_a_stripe_shaped_404(client: Client) -> None:
    response = client.get("/simulator/stripe/v1/charges_everywhere")

    assert response.status_code == 404
    assert "Unrecognized request URL" in json.loads(response.content)["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/simulator/",
        "/simulator/stripe/v1/payment_intents/pi_x",
        "/simulator/stripe/v1/nowhere",
        "/simulator/3ds/pi_x/",
        "/simulator/vouchers/pi_x/",
        "/simulator/transfers/pi_x/",
    ],
)
def test_everything_is_404_when_the_simulator_is_off(settings: Any, client: Client, path: str) -> None:
    settings.PAYMENT_SIMULATOR = False

    response = client.get(path, headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"})

    assert response.status_code == 404


def test_api_is_404_when_the_simulator_is_off(settings: Any, stripe_client: stripe.StripeClient) -> None:
    settings.PAYMENT_SIMULATOR = False

    with pytest.raises(stripe.StripeError) as caught:
        stripe_client.v1.customers.create(params={"email": "a@example.jp"})

    assert caught.value.http_status == 404


def test_the_simulator_refuses_to_run_beside_a_live_key(settings: Any, client: Client) -> None:
    settings.STRIPE_SECRET_KEY = "sk_live_" + "x" * 20

    assert client.get("/simulator/").status_code == 404


def test_responses_carry_request_id_and_stripe_version(
    gateway: StripeGateway, transport: DjangoClientHTTPClient
) -> None:
    customer_id = gateway.create_customer(email="a@example.jp", idempotency_key="customer-1")

    response = transport.client.get(
        f"/simulator/stripe/v1/customers/{customer_id}",
        headers={**AUTH, "Stripe-Version": "2025-01-27.acacia"},
    )

    assert response.status_code == 200
    assert response["Request-Id"].startswith("req_")
    assert response["Stripe-Version"] == "2025-01-27.acacia"
    assert json.loads(response.content)["email"] == "a@example.jp"
    _, _, sent_headers, _ = transport.requests[0]
    assert sent_headers["Stripe-Version"] == stripe.api_version


# --- webhook endpoints -----------------------------------------------------------------------


def test_webhook_endpoints_create_list_update(settings: Any, stripe_client: stripe.StripeClient) -> None:
    created = stripe_client.v1.webhook_endpoints.create(
        params={
            "url": "http://testserver/webhooks/stripe/",
            "enabled_events": ["payment_intent.succeeded", "charge.refunded"],
        }
    )
    assert created.id.startswith("we_")
    assert created.secret == settings.STRIPE_WEBHOOK_SECRETS[0]
    assert created.status == "enabled"

    listed = stripe_client.v1.webhook_endpoints.list()
    assert [endpoint.id for endpoint in listed.data] == [created.id]
    assert "secret" not in listed.data[0]

    updated = stripe_client.v1.webhook_endpoints.update(created.id, params={"enabled_events": ["*"], "disabled": True})
    assert updated.enabled_events == ["*"]
    assert updated.status == "disabled"

    deleted = stripe_client.v1.webhook_endpoints.delete(created.id)
    assert deleted.deleted is True
    assert stripe_client.v1.webhook_endpoints.list().data == []


def test_dashboard_lists_intents_with_their_actions(gateway: StripeGateway, client: Client) -> None:
    konbini = create_konbini_intent(gateway, key="order-1")
    card = create_card_intent(gateway, payment_method="pm_card_authenticationRequired", key="order-2")

    page = client.get("/simulator/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "TEST MODE — payment simulator" in content
    assert konbini.id in content and card.id in content
    assert "Pay at store" in content and "Let voucher expire" in content
    assert f"/simulator/3ds/{card.id}/" in content
    assert "payment_intent.requires_action" in content
