from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.test import Client

from payops.simulator.models import SimPaymentIntent
from payops.simulator.test_cards import payment_method_for_card
from payops.stripe.gateway import PaymentDeclined, StripeGateway
from tests.simulator.clients import DjangoClientHTTPClient
from tests.simulator.helpers import create_card_intent, event_types


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("4242424242424242", "pm_card_visa"),
        ("4242 4242 4242 4242", "pm_card_visa"),
        ("4000000000000002", "pm_card_chargeDeclined"),
        ("4000 0025 0000 3155", "pm_card_authenticationRequired"),
    ],
)
def test_payment_method_for_card_maps_stripe_test_numbers(number: str, expected: str) -> None:
    assert payment_method_for_card(number) == expected


def test_payment_method_for_card_refuses_unknown_numbers() -> None:
    with pytest.raises(ValueError, match="not one of Stripe's test cards"):
        payment_method_for_card("4111 1111 1111 1111")


def test_visa_test_card_succeeds(gateway: StripeGateway) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_visa")

    assert intent.status == "succeeded"
    assert intent.amount_received == 1500
    assert intent.currency == "JPY"
    assert intent.id.startswith("pi_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.metadata == {"order_number": "PO-1"}
    assert event_types(intent.id) == ["payment_intent.created", "payment_intent.succeeded"]


@pytest.mark.parametrize("payment_method", ["pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"])
def test_declined_card_raises_payment_declined_and_keeps_the_intent(
    gateway: StripeGateway, payment_method: str
) -> None:
    with pytest.raises(PaymentDeclined) as caught:
        create_card_intent(gateway, payment_method=payment_method)

    declined = caught.value
    assert declined.code == "card_declined"
    assert declined.decline_code == "generic_decline"
    assert str(declined) == "Your card was declined."
    assert declined.intent is not None
    assert declined.intent.status == "requires_payment_method"
    assert declined.intent.failure_code == "generic_decline"
    stored = SimPaymentIntent.objects.get(stripe_id=declined.intent.id)
    assert stored.status == "requires_payment_method"
    assert stored.last_payment_error["type"] == "card_error"
    assert stored.last_payment_error["payment_method"]["type"] == "card"
    assert event_types(stored.stripe_id) == ["payment_intent.created", "payment_intent.payment_failed"]


def test_declined_card_is_a_402_card_error_with_the_intent(
    gateway: StripeGateway, transport: DjangoClientHTTPClient
) -> None:
    with pytest.raises(PaymentDeclined):
        create_card_intent(gateway, payment_method="pm_card_chargeDeclined")

    method, path, headers, body = transport.requests[-1]
    assert (method, path) == ("POST", "/simulator/stripe/v1/payment_intents")
    assert "payment_method=pm_card_chargeDeclined" in body
    assert headers["Idempotency-Key"] == "order-1-card"


def test_authentication_required_card_redirects_to_the_simulators_3ds_page(gateway: StripeGateway) -> None:
    intent = create_card_intent(
        gateway, payment_method="pm_card_authenticationRequired", return_url="http://testserver/orders/tok/"
    )

    assert intent.status == "requires_action"
    assert intent.next_action == {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": f"http://testserver/simulator/3ds/{intent.id}/",
            "return_url": "http://testserver/orders/tok/",
        },
    }
    assert event_types(intent.id) == ["payment_intent.created", "payment_intent.requires_action"]


def test_completing_3ds_succeeds_and_returns_to_the_shop(gateway: StripeGateway, client: Client) -> None:
    intent = create_card_intent(
        gateway, payment_method="pm_card_authenticationRequired", return_url="http://testserver/orders/tok/?lang=ja"
    )
    page = client.get(f"/simulator/3ds/{intent.id}/")
    assert page.status_code == 200
    assert b"TEST MODE" in page.content
    assert b"Complete authentication" in page.content

    response = client.post(f"/simulator/3ds/{intent.id}/", {"outcome": "complete"})

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/orders/tok/"
    query = parse_qs(target.query)
    assert query["lang"] == ["ja"]
    assert query["payment_intent"] == [intent.id]
    assert query["payment_intent_client_secret"] == [intent.client_secret]
    assert query["redirect_status"] == ["succeeded"]
    refreshed = gateway.retrieve_payment_intent(intent.id)
    assert refreshed.status == "succeeded"
    assert refreshed.amount_received == 1500
    assert event_types(intent.id)[-1] == "payment_intent.succeeded"


def test_failing_3ds_asks_for_a_new_payment_method(gateway: StripeGateway, client: Client) -> None:
    intent = create_card_intent(
        gateway, payment_method="pm_card_authenticationRequired", return_url="http://testserver/orders/tok/"
    )

    response = client.post(f"/simulator/3ds/{intent.id}/", {"outcome": "fail"})

    assert response.status_code == 302
    assert "redirect_status=failed" in response["Location"]
    refreshed = gateway.retrieve_payment_intent(intent.id)
    assert refreshed.status == "requires_payment_method"
    assert refreshed.failure_code == "payment_intent_authentication_failure"
    assert event_types(intent.id)[-1] == "payment_intent.payment_failed"


def test_3ds_page_refuses_a_second_answer(gateway: StripeGateway, client: Client) -> None:
    intent = create_card_intent(gateway, payment_method="pm_card_authenticationRequired")
    client.post(f"/simulator/3ds/{intent.id}/", {"outcome": "complete"})

    again = client.post(f"/simulator/3ds/{intent.id}/", {"outcome": "fail"})

    assert again.status_code == 409
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_intent_created_without_confirm_waits_and_confirms_later(stripe_client: stripe.StripeClient) -> None:
    intent = stripe_client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "jpy", "payment_method_types": ["card"]}
    )
    assert intent.status == "requires_payment_method"
    assert intent.next_action is None

    confirmed = stripe_client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})

    assert confirmed.status == "succeeded"
    assert confirmed.latest_charge.startswith("ch_")


def test_3ds_page_works_with_csrf_checks_on(gateway: StripeGateway) -> None:
    intent = create_card_intent(
        gateway, payment_method="pm_card_authenticationRequired", return_url="http://testserver/x/"
    )
    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/simulator/3ds/{intent.id}/")

    response = browser.post(
        f"/simulator/3ds/{intent.id}/",
        {"outcome": "complete", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )

    assert response.status_code == 302
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"
