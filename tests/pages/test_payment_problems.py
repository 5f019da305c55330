"""A payment that does not go through reads as a short, kind sentence saying what to do next, in
the shopper's language; Stripe's developer message never reaches a shopper, and its code stays
for staff (issue 14.2)."""

from __future__ import annotations

import pytest

from orders.payment_problems import payment_problem_kind
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment, order_mark_payment_failed
from payops.mail.models import Mail
from payops.mail.rendering import render_mail
from tests.factories import make_order, make_payment
from tests.fakes.stripe_api import konbini_next_action

pytestmark = pytest.mark.django_db

STRIPE_3DS = "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."  # noqa: E501
STRIPE_DECLINE = "Your card was declined."


def declined(locale: str, *, code: str = "generic_decline", message: str = STRIPE_DECLINE):
    order = make_order(status="payment_failed", locale=locale)
    make_payment(order, method="card", status="requires_payment_method", failure_code=code, failure_message=message)
    return order


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("generic_decline", "declined"),
        ("card_declined", "declined"),
        ("fraudulent", "declined"),  # never tell a shopper what the issuer suspected
        ("stolen_card", "declined"),
        ("insufficient_funds", "insufficient_funds"),
        ("expired_card", "expired_card"),
        ("incorrect_cvc", "wrong_cvc"),
        ("payment_intent_authentication_failure", "authentication"),
        ("processing_error", "try_again"),
        ("something_stripe_adds_next_year", "other"),
    ],
)
def test_codes_fall_into_kinds(code, kind):
    assert payment_problem_kind(code) == kind


def test_a_declined_card_on_a_japanese_page_says_what_to_do_in_japanese(client):
    order = declined("ja")
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "別のカードをお試しいただくか、コンビニ払い・銀行振込をお選びください" in html
    assert STRIPE_DECLINE not in html and "generic_decline" not in html


def test_a_failed_3d_secure_on_an_english_page_says_so_kindly(client):
    order = declined("en", code="payment_intent_authentication_failure", message=STRIPE_3DS)
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "The identity check with your card issuer (3-D Secure) was not completed" in html
    assert "PaymentMethod" not in html and "payment_intent_authentication_failure" not in html


def test_the_shopper_api_gives_the_kind_and_the_sentence_not_stripes(client):
    order = declined("ja", code="payment_intent_authentication_failure", message=STRIPE_3DS)
    failure = client.get(f"/api/v1/orders/{order.token}/").json()["payment"]["failure"]
    assert failure["kind"] == "authentication"
    assert failure["message"].startswith("カード会社による本人認証")
    assert "payment_intent_authentication_failure" not in str(failure) and "PaymentMethod" not in str(failure)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_payment_failed_mail_words_the_problem_for_the_shopper(locale):
    order = make_order(locale=locale)
    make_payment(order, method="konbini", status="requires_action", next_action=konbini_next_action(1_800_000_000))
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.system("test"))
    order_mark_payment_failed(
        order_id=order.pk,
        cause=Cause.system("test"),
        reason_code="payment_intent_authentication_failure",
        reason_message=STRIPE_3DS,
    )
    mail = Mail.objects.get(reference=order.number, template="payment_failed")
    rendered = render_mail(template=mail.template, language=mail.language, context=mail.context)
    for body in (rendered.text, rendered.html):
        assert "PaymentMethod" not in body and "payment_intent_authentication_failure" not in body
        expected = "本人認証（3Dセキュア）が完了しませんでした" if locale == "ja" else "(3-D Secure) was not completed"
        assert expected in body and order.status_url in body


def test_staff_still_see_stripes_code(admin_client):
    order = declined("ja")
    html = admin_client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert "generic_decline" in html
