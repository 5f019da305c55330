"""The mail after a merchant rejects an order (issue 14.11): it says the order was cancelled and
refunded, how much, and when the money arrives for the way the shopper paid, in their
language; never "something went wrong, a member of our team is looking at it"."""

from __future__ import annotations

import pytest

from orders.models import Order, Payment
from payops.mail.models import Mail
from payops.mail.rendering import render_mail
from payops.workflow.services import approval_decide
from tests.orders.workflow.conftest import refund_answer
from tests.workflow.helpers import reload, run_due

pytestmark = pytest.mark.django_db


def rejected(clock, pay, staff, fake_stripe, *, locale: str, method: str) -> Order:
    fake_stripe.responder = refund_answer()
    order, execution = pay(price=60_000, quantity=2)
    Order.objects.filter(pk=order.pk).update(locale=locale)
    Payment.objects.filter(order=order).update(method=method)
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "Approval"
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff, note="out of stock at the kiln")
    run_due()
    assert reload(execution).status == "succeeded"
    return order


def apology(order: Order):
    mail = Mail.objects.get(reference=order.number, template="apology")
    return render_mail(template=mail.template, language=mail.language, context=mail.context)


def test_a_japanese_card_shopper_is_told_cancelled_refunded_and_when(clock, pay, staff, fake_stripe):
    order = rejected(clock, pay, staff, fake_stripe, locale="ja", method="card")
    mail = apology(order)
    assert mail.subject == f"ご注文を取り消し、返金いたしました（{order.number}）"
    for body in (mail.text, mail.html):
        assert "120,000円" in body and "全額返金" in body
        assert "5〜10日" in body
        assert "担当者が確認" not in body and "問題が発生" not in body


def test_an_english_konbini_shopper_learns_the_refund_needs_a_bank_account(clock, pay, staff, fake_stripe):
    order = rejected(clock, pay, staff, fake_stripe, locale="en", method="konbini")
    mail = apology(order)
    assert mail.subject == f"Your order {order.number} was cancelled and refunded"
    for body in (mail.text, mail.html):
        assert "¥120,000" in body and "e-mail from Stripe" in body and "bank account" in body
        assert "looking at it" not in body and "Something went wrong" not in body
