"""Bank-transfer instructions on the status page and in the mail (issue 14.6): the account type
in words, the deadline shown, one name for the reference in both, no doubled brackets."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment
from payops.mail.models import Mail
from payops.mail.rendering import render_mail
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action

pytestmark = pytest.mark.django_db

# 2026-12-10 14:59 UTC is Thursday 10 December 23:59 in Tokyo.
DEADLINE = dt.datetime(2026, 12, 10, 14, 59, tzinfo=dt.UTC)


def transfer_order(locale: str, *, remaining: int = 15_800):
    order = make_order(
        status="pending_payment",
        product=make_product(price_amount=15_800),
        locale=locale,
        payment_expires_at=DEADLINE,
    )
    make_payment(
        order,
        method="bank_transfer",
        status="requires_action",
        amount=15_800,
        next_action=bank_transfer_next_action(remaining),
    )
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.system("test"))
    return order


def page(client, order) -> str:
    html = client.get(f"/orders/{order.token}/").content.decode()
    return html.split('id="live-next-step"')[1].split("</section>")[0]


def mail_text(order) -> tuple[str, str]:
    mail = Mail.objects.get(reference=order.number, template="order_received")
    rendered = render_mail(template=mail.template, language=mail.language, context=mail.context)
    return rendered.text, rendered.html


def test_japanese_page_and_mail_say_the_same_things_in_japanese(client):
    order = transfer_order("ja")
    html = page(client, order)
    text, mail_html = mail_text(order)
    for shown in (html, text, mail_html):
        assert "普通" in shown and "futsu" not in shown
        assert "2026年12月10日（木）23:59" in shown
        assert "振込依頼人番号" in shown and "振込参照番号" not in shown
        assert "PAYOPS-REF" in shown


def test_english_page_and_mail_say_ordinary_account_and_the_deadline(client):
    order = transfer_order("en")
    html = page(client, order)
    text, mail_html = mail_text(order)
    for shown in (html, text, mail_html):
        assert "Ordinary account" in shown and "futsu" not in shown
        assert "Thu 10 Dec 2026, 23:59" in shown
        assert "Transfer reference number" in shown


def test_after_partial_funding_the_page_has_no_doubled_brackets(client):
    order = transfer_order("ja", remaining=7_900)
    html = page(client, order)
    assert "（（" not in html and "）)" not in html and "(（" not in html
    assert 'id="amount-remaining" class="figure">7,900円<' in html
    assert "7,900円 / 15,800円" in html  # received so far, of the payment
