from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import stripe
from django.test import Client

from payops.simulator.services.konbini import voucher_expiry
from payops.stripe.gateway import GatewayError, StripeGateway
from tests.simulator.clients import DjangoClientHTTPClient
from tests.simulator.helpers import create_konbini_intent, event_payloads, event_types

JST = ZoneInfo("Asia/Tokyo")


def test_konbini_confirm_issues_a_voucher_shaped_like_stripes(
    gateway: StripeGateway, transport: DjangoClientHTTPClient
) -> None:
    intent = create_konbini_intent(gateway)

    assert intent.status == "requires_action"
    assert intent.payment_method_type == "konbini"
    action = intent.next_action
    assert action is not None
    assert action["type"] == "konbini_display_details"
    details = action["konbini_display_details"]
    assert details["hosted_voucher_url"] == f"http://testserver/simulator/vouchers/{intent.id}/"
    assert set(details["stores"]) == {"familymart", "lawson", "ministop", "seicomart"}
    for store in details["stores"].values():
        assert store["payment_code"].isdigit()
        assert store["confirmation_number"].isdigit()
    expires = datetime.fromtimestamp(details["expires_at"], JST)
    assert (expires.hour, expires.minute, expires.second) == (23, 59, 59)
    assert expires.date() == datetime.now(JST).date() + timedelta(days=3)
    _, _, _, body = transport.requests[-1]
    assert "payment_method_options[konbini][expires_after_days]=3" in body
    assert event_types(intent.id) == ["payment_intent.created", "payment_intent.requires_action"]


def test_voucher_expires_at_the_end_of_the_japanese_day() -> None:
    # 23:30 UTC on 1 March is already 2 March in Tokyo.
    confirmed_at = datetime(2025, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))

    expiry = voucher_expiry(confirmed_at=confirmed_at, expires_after_days=2)

    assert expiry == datetime(2025, 3, 4, 23, 59, 59, tzinfo=JST)


@pytest.mark.parametrize(("amount", "code"), [(119, "amount_too_small"), (300_001, "amount_too_large")])
def test_konbini_refuses_amounts_outside_stripes_limits(gateway: StripeGateway, amount: int, code: str) -> None:
    with pytest.raises(GatewayError) as caught:
        create_konbini_intent(gateway, amount=amount)

    assert caught.value.code == code


def test_konbini_refuses_other_currencies(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(
            params={
                "amount": 1500,
                "currency": "usd",
                "payment_method_types": ["konbini"],
                "payment_method_data": {"type": "konbini", "billing_details": {"name": "A", "email": "a@example.jp"}},
                "confirm": True,
            }
        )

    assert caught.value.http_status == 400
    assert caught.value.param == "currency"


def test_voucher_page_shows_the_payment_codes(gateway: StripeGateway, client: Client) -> None:
    intent = create_konbini_intent(gateway)
    assert intent.next_action is not None
    code = intent.next_action["konbini_display_details"]["stores"]["lawson"]["payment_code"]

    page = client.get(f"/simulator/vouchers/{intent.id}/")

    assert page.status_code == 200
    assert b"TEST MODE" in page.content
    assert code.encode() in page.content
    assert "¥1,500".encode() in page.content


def test_paying_at_the_store_succeeds_the_intent(gateway: StripeGateway, client: Client) -> None:
    intent = create_konbini_intent(gateway)

    response = client.post(f"/simulator/vouchers/{intent.id}/pay/", {"next": f"/simulator/vouchers/{intent.id}/"})

    assert response.status_code == 302
    assert response["Location"] == f"/simulator/vouchers/{intent.id}/"
    paid = gateway.retrieve_payment_intent(intent.id)
    assert paid.status == "succeeded"
    assert paid.amount_received == 1500
    assert paid.next_action is None
    assert event_types(intent.id)[-1] == "payment_intent.succeeded"
    succeeded = event_payloads("payment_intent.succeeded")[-1]
    assert succeeded["data"]["object"]["status"] == "succeeded"
    # Caused from the dashboard, not by an API request.
    assert succeeded["request"] == {"id": None, "idempotency_key": None}


def test_an_expired_voucher_sends_the_intent_back_to_requires_payment_method(
    gateway: StripeGateway, client: Client
) -> None:
    intent = create_konbini_intent(gateway)

    client.post(f"/simulator/vouchers/{intent.id}/expire/")

    expired = gateway.retrieve_payment_intent(intent.id)
    assert expired.status == "requires_payment_method"
    assert expired.failure_code == "payment_intent_payment_attempt_expired"
    assert expired.next_action is None
    assert event_types(intent.id)[-1] == "payment_intent.payment_failed"


def test_a_paid_voucher_cannot_expire(gateway: StripeGateway, client: Client) -> None:
    intent = create_konbini_intent(gateway)
    client.post(f"/simulator/vouchers/{intent.id}/pay/")

    response = client.post(f"/simulator/vouchers/{intent.id}/expire/", follow=True)

    assert b"has no open konbini voucher" in response.content
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"
