"""Issue 14, defect 12: a declined card (or a voucher the shopper cannot use) can be paid again,
another way, on the same order — from the status page and through the API."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
from django.utils import timezone

from orders import errors
from orders.models import Order, Payment, Product
from orders.services.checkout import CartItem, checkout
from orders.services.payment_retry import order_retry_payment, payment_retry_refusal
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json
from webhooks.handlers import StripeEvent, stripe_handle

pytestmark = pytest.mark.django_db

DECLINE = {
    "error": {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
    }
}


class StripeLike:
    """Answers as Stripe would: a card with pm_card_chargeDeclined is declined, konbini gets a
    voucher, cancel cancels; every intent a new id."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.cancelled: list[str] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, Any]]:
        if request.path.endswith("/cancel"):
            intent_id = request.path.split("/")[-2]
            self.cancelled.append(intent_id)
            return 200, payment_intent_json(id=intent_id, status="canceled")
        if request.path == "/v1/payment_intents" and request.method == "POST":
            amount = int(request.params["amount"])
            intent_id = f"pi_like_{next(self.ids)}"
            if request.params.get("payment_method") == "pm_card_chargeDeclined":
                # Stripe's card error carries the intent, left waiting for another payment method
                declined = payment_intent_json(
                    id=intent_id,
                    amount=amount,
                    status="requires_payment_method",
                    last_payment_error={"code": "card_declined", "decline_code": "generic_decline"},
                )
                return 402, {"error": {**DECLINE["error"], "payment_intent": declined}}
            if request.params.get("payment_method_types[0]") == "konbini":
                return 200, payment_intent_json(
                    id=intent_id, amount=amount, status="requires_action", next_action=KONBINI_ACTION
                )
            if request.params.get("payment_method_types[0]") == "card":
                return 200, payment_intent_json(id=intent_id, amount=amount, status="succeeded", amount_received=amount)
        return 404, {"error": {"type": "invalid_request_error", "message": f"no fake for {request.path}"}}


@pytest.fixture
def stripe_like(fake_stripe):
    like = StripeLike()
    fake_stripe.responder = like
    return like


@pytest.fixture
def declined_order(stripe_like) -> Order:
    make_product(sku="BOWL", name="Raku tea bowl", name_ja="楽焼 茶碗", price_amount=38000, stock_on_hand=3)
    with pytest.raises(errors.PaymentDeclinedAtCheckout) as declined:
        checkout(
            items=[CartItem("BOWL", 2)],
            email="hanako@example.jp",
            method="card",
            locale="ja",
            payment_method_id="pm_card_chargeDeclined",
        )
    order = declined.value.order
    assert order.status == "payment_failed"
    assert Product.objects.get().stock_reserved == 0
    return order


def _intent_requests(fake_stripe):
    return [r for r in fake_stripe.requests if r.path == "/v1/payment_intents"]


def test_a_declined_order_can_be_paid_by_konbini_instead(
    declined_order, fake_stripe, django_capture_on_commit_callbacks
):
    result = order_retry_payment(order_id=declined_order.pk, method="konbini")

    order = Order.objects.get()  # the same order: one order, same number and amount
    assert result.order.pk == order.pk == declined_order.pk
    assert order.status == "awaiting_payment"
    assert order.total_amount == 76000
    assert Product.objects.get().stock_reserved == 2  # its stock is held again
    payments = list(order.payments.order_by("pk"))
    assert [p.method for p in payments] == ["card", "konbini"]
    assert payments[1].status == "requires_action" and payments[1].next_action["type"] == "konbini_display_details"
    # a new PaymentIntent for the same amount, under a key of its own (not the first attempt's)
    first, second = _intent_requests(fake_stripe)
    assert second.params["amount"] == "76000"
    assert second.headers["idempotency-key"] != first.headers["idempotency-key"]
    assert list(order.events.order_by("sequence").values_list("type", flat=True))[-2:] == [
        "order.awaiting_payment",
        "payment.retried",
    ]


def test_paying_again_with_a_card_that_works_ends_paid(declined_order, stripe_like):
    order_retry_payment(order_id=declined_order.pk, method="card", payment_method_id="pm_card_visa")
    order = Order.objects.get()
    assert order.status == "paid"
    assert Product.objects.get().stock_reserved == 2


def test_declined_again_releases_the_stock_again(declined_order, stripe_like):
    with pytest.raises(errors.PaymentDeclinedAtCheckout):
        order_retry_payment(order_id=declined_order.pk, method="card", payment_method_id="pm_card_chargeDeclined")
    order = Order.objects.get()
    assert order.status == "payment_failed"
    assert Product.objects.get().stock_reserved == 0
    assert order.payments.count() == 2


def test_switching_from_an_open_voucher_cancels_it_first(stripe_like):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    result = checkout(items=[CartItem("TEA", 1)], email="a@example.jp", method="konbini", locale="ja")
    voucher = result.payment
    order_retry_payment(order_id=result.order.pk, method="card", payment_method_id="pm_card_visa")
    voucher.refresh_from_db()
    assert stripe_like.cancelled == [voucher.intent_id]
    assert voucher.status == "canceled"
    assert Order.objects.get().status == "paid"


def test_late_events_of_the_superseded_intent_do_not_move_the_order(declined_order, stripe_like):
    order_retry_payment(order_id=declined_order.pk, method="konbini")
    old = Payment.objects.filter(order=declined_order).order_by("pk").first()
    assert old.intent_id == "pi_like_1"
    # Stripe tells us, after the retry, that the old intent was cancelled
    event = StripeEvent.from_payload(
        {
            "id": "evt_old_cancel",
            "type": "payment_intent.canceled",
            "created": int(timezone.now().timestamp()) + 5,
            "data": {"object": payment_intent_json(id=old.intent_id or "pi_x", status="canceled", amount=76000)},
        }
    )
    stripe_handle(event)
    assert Order.objects.get().status == "awaiting_payment"


@pytest.mark.parametrize("status", ["paid", "expired", "cancelled", "shipped"])
def test_only_orders_awaiting_payment_may_pay_again(declined_order, stripe_like, status):
    Order.objects.filter(pk=declined_order.pk).update(status=status)
    with pytest.raises(errors.PaymentRetryNotAllowed) as refused:
        order_retry_payment(order_id=declined_order.pk, method="konbini")
    assert refused.value.reason == "not_awaiting_payment"
    assert Payment.objects.filter(order=declined_order).count() == 1


def test_too_late_to_pay_again(declined_order, stripe_like, settings):
    settings.PAYOPS_PAYMENT_RETRY_HOURS = 24
    Order.objects.filter(pk=declined_order.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    with pytest.raises(errors.PaymentRetryNotAllowed) as refused:
        order_retry_payment(order_id=declined_order.pk, method="konbini")
    assert refused.value.reason == "too_late"


def test_a_partly_funded_transfer_cannot_switch_method(declined_order, stripe_like):
    Payment.objects.filter(order=declined_order).update(method="bank_transfer", amount_received=1000)
    Order.objects.filter(pk=declined_order.pk).update(status="awaiting_payment")
    order = Order.objects.get()
    assert payment_retry_refusal(order).reason == "partly_paid"


def test_sold_out_meanwhile_refuses_and_changes_nothing(declined_order, stripe_like):
    Product.objects.update(stock_on_hand=1)
    with pytest.raises(errors.PaymentRetryNotAllowed) as refused:
        order_retry_payment(order_id=declined_order.pk, method="konbini")
    assert refused.value.reason == "out_of_stock"
    order = Order.objects.get()
    assert order.status == "payment_failed" and order.payments.count() == 1
    assert Product.objects.get().stock_reserved == 0


def test_a_method_the_order_cannot_use_is_refused_before_anything_is_cancelled(stripe_like):
    pot = make_product(sku="POT", price_amount=400_000, stock_on_hand=2)
    order = make_order(status="awaiting_payment", product=pot)
    make_payment(order, method="bank_transfer", status="requires_action")
    with pytest.raises(errors.PaymentMethodNotAvailable):
        order_retry_payment(order_id=order.pk, method="konbini")  # over konbini's ¥300,000
    assert stripe_like.cancelled == []


# --- the status page (ja and en) -------------------------------------------------------------


def test_status_page_offers_paying_again_in_japanese(client, declined_order):
    html = client.get(f"/orders/{declined_order.token}/").content.decode()
    assert "別の方法で支払う" in html and "この方法で支払う" in html
    assert 'action="/orders/' in html and "/pay/" in html
    assert 'value="outside"' not in html


def test_status_page_in_english(client, declined_order):
    Order.objects.filter(pk=declined_order.pk).update(locale="en")
    html = client.get(f"/orders/{declined_order.token}/").content.decode()
    assert "Pay another way" in html and "Pay with this method" in html


def test_paying_again_from_the_status_page(client, declined_order):
    response = client.post(f"/orders/{declined_order.token}/pay/", {"payment_method": "konbini"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{declined_order.token}/"
    order = Order.objects.get()
    assert order.status == "awaiting_payment"
    html = client.get(response["Location"]).content.decode()
    assert "123456" in html  # the new voucher's payment code


def test_status_page_form_errors_are_tied_to_the_field(client, declined_order):
    response = client.post(f"/orders/{declined_order.token}/pay/", {"payment_method": "outside"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "表示されているお支払い方法から選んでください。" in html
    assert 'id="id_payment_method_error"' in html
    assert Order.objects.get().payments.count() == 1


def test_a_paid_order_offers_no_retry_and_refuses_one_in_words(client, declined_order):
    Order.objects.filter(pk=declined_order.pk).update(status="paid")
    assert "別の方法で支払う" not in client.get(f"/orders/{declined_order.token}/").content.decode()
    response = client.post(f"/orders/{declined_order.token}/pay/", {"payment_method": "konbini"}, follow=True)
    assert "このご注文はお支払い待ちではありません。" in response.content.decode()


def test_paying_again_for_an_unknown_token_is_a_404(client):
    assert client.post("/orders/" + "A" * 32 + "/pay/", {"payment_method": "konbini"}).status_code == 404


# --- the API -----------------------------------------------------------------------------------


def test_the_api_pays_again_for_the_same_order(client, declined_order):
    response = client.post(
        f"/api/v1/orders/{declined_order.token}/payments/",
        json.dumps({"payment_method": "konbini"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["order"]["number"] == declined_order.number
    assert body["order"]["status"] == "awaiting_payment"
    assert body["payment"]["method"] == "konbini"
    assert client.get(f"/api/v1/orders/{declined_order.token}/").json()["can_pay_again"] is True


def test_the_api_refuses_a_paid_order_with_a_problem(client, declined_order):
    Order.objects.filter(pk=declined_order.pk).update(status="paid")
    response = client.post(
        f"/api/v1/orders/{declined_order.token}/payments/",
        json.dumps({"payment_method": "konbini"}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["reason"] == "not_awaiting_payment"
    assert client.get(f"/api/v1/orders/{declined_order.token}/").json()["can_pay_again"] is False


def test_the_api_refuses_outside(client, declined_order):
    response = client.post(
        f"/api/v1/orders/{declined_order.token}/payments/",
        json.dumps({"payment_method": "outside"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_method"]


# --- the order page's language switch ------------------------------------------------------------


def test_the_order_page_switches_the_orders_own_language(client, declined_order):
    html = client.get(f"/orders/{declined_order.token}/").content.decode()
    assert f'action="/orders/{declined_order.token}/language/"' in html
    response = client.post(f"/orders/{declined_order.token}/language/", {"language": "en"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{declined_order.token}/"
    assert Order.objects.get().locale == "en"  # live updates and mails follow the order
    assert "Pay another way" in client.get(response["Location"]).content.decode()
    assert '<html lang="en">' in client.get("/").content.decode()  # the shop follows too
    assert client.cookies["django_language"].value == "en"


@pytest.mark.parametrize("language", ["fr", "", "ja-JP", "<script>"])
def test_an_unknown_language_changes_nothing(client, declined_order, language):
    response = client.post(f"/orders/{declined_order.token}/language/", {"language": language})
    assert response.status_code == 302
    assert Order.objects.get().locale == "ja"


# --- what others learn: mails and published events ---------------------------------------------


def test_paying_again_by_konbini_mails_the_new_voucher(declined_order, stripe_like):
    from payops.mail.models import Mail

    order_retry_payment(order_id=declined_order.pk, method="konbini")
    mails = list(Mail.objects.filter(reference=declined_order.number))
    assert [m.template for m in mails] == ["order_received"]
    assert mails[0].context["method"] == "konbini"
    assert mails[0].context["konbini"]["stores"][0]["payment_code"] == "123456"


def test_switching_from_one_voucher_to_a_transfer_mails_the_new_instructions_too(stripe_like, fake_stripe):
    from payops.mail.models import Mail
    from tests.fakes.stripe_api import bank_transfer_next_action

    make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    first = checkout(items=[CartItem("TEA", 1)], email="a@example.jp", method="konbini", locale="ja")
    like = fake_stripe.responder

    def with_transfers(request):
        if request.path == "/v1/customers":
            return 200, {"id": "cus_like", "object": "customer"}
        if request.params.get("payment_method_types[0]") == "customer_balance":
            action = bank_transfer_next_action(1500)
            return 200, payment_intent_json(id="pi_like_t", amount=1500, status="requires_action", next_action=action)
        return like(request)

    fake_stripe.responder = with_transfers
    order_retry_payment(order_id=first.order.pk, method="bank_transfer")
    sent = Mail.objects.filter(reference=first.order.number).order_by("pk")
    assert [m.context["method"] for m in sent] == ["konbini", "bank_transfer"]
    assert len({m.idempotency_key for m in sent}) == 2


def test_what_a_retry_publishes_follows_the_event_catalogue(declined_order, stripe_like):
    from payops.outbox.models import OutboxEvent
    from tests.outbox.test_catalogue import assert_valid

    order_retry_payment(order_id=declined_order.pk, method="konbini")
    published = list(OutboxEvent.objects.filter(aggregate=declined_order.number).order_by("sequence"))
    assert [row.detail_type for row in published][-2:] == ["order.awaiting_payment", "payment.retried"]
    for row in published:
        assert_valid(row.detail_type, row.detail)
