"""The konbini voucher (issue 14.7): store names in Japanese on Japanese pages, the numbers shown
once with the stores that accept them, at least at label size and never wrapped, and a
printable voucher page."""

from __future__ import annotations

import pytest

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment
from payops.mail.models import Mail
from payops.mail.rendering import render_mail
from tests.factories import make_order, make_payment
from tests.fakes.stripe_api import konbini_next_action

pytestmark = pytest.mark.django_db

EXPIRES = 1_796_569_199  # 2026-12-06 23:59:59 JST


def konbini_order(locale: str):
    order = make_order(status="pending_payment", locale=locale)
    make_payment(order, method="konbini", status="requires_action", next_action=konbini_next_action(EXPIRES))
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.system("test"))
    return order


def next_step(client, order) -> str:
    html = client.get(f"/orders/{order.token}/").content.decode()
    # each store name is kept on one line by its own span; read the text without them
    return (
        html.split('id="live-next-step"')[1]
        .split("</section>")[0]
        .replace('<span class="store">', "")
        .replace("</span>", "")
    )


def test_japanese_page_names_the_stores_in_japanese_and_shows_the_numbers_once(client):
    shown = next_step(client, konbini_order("ja"))
    assert "ファミリーマート・ローソン・ミニストップ・セイコーマート" in shown
    assert "Familymart" not in shown and "Lawson" not in shown
    assert shown.count("123456<") == 1 and shown.count("12345678901<") == 1
    assert "2026年12月6日（日）23:59" in shown
    # the numbers are styled as figures (label size, no wrapping: static/payops.css .figure)
    assert '<dd class="figure"><code>123456</code></dd>' in shown


def test_english_page_keeps_the_chain_names(client):
    shown = next_step(client, konbini_order("en"))
    assert "FamilyMart, Lawson, Ministop, Seicomart" in shown and shown.count("123456<") == 1


def test_the_printable_voucher(client):
    order = konbini_order("ja")
    assert f"/orders/{order.token}/voucher/" in next_step(client, order)
    html = client.get(f"/orders/{order.token}/voucher/").content.decode()
    assert "コンビニ払込票" in html and order.number in html and "123456" in html and "data-print" in html


def test_no_voucher_page_once_paid(client):
    order = make_order(status="paid", locale="ja")
    response = client.get(f"/orders/{order.token}/voucher/")
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()


def test_the_mail_shows_the_numbers_once_with_japanese_store_names():
    order = konbini_order("ja")
    mail = Mail.objects.get(reference=order.number, template="order_received")
    rendered = render_mail(template=mail.template, language=mail.language, context=mail.context)
    for body in (rendered.text, rendered.html):
        assert body.count("123456") - body.count("12345678901") == 1
        assert "ファミリーマート・ローソン・ミニストップ・セイコーマート" in body and "Familymart" not in body
