"""The overview's money today (issue 14.13): what came in, what went back, and the difference;
money refunded later no longer counts as today's income."""

from __future__ import annotations

import pytest
from django.utils import timezone

from orders.models import Order, Refund
from tests.dashboard.conftest import as_user, users  # noqa: F401
from tests.factories import make_order, make_payment, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_overview():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def paid(amount: int) -> Order:
    order = make_order(status="paid", product=make_product(price_amount=amount))
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now())
    payment = make_payment(order, status="succeeded", amount=amount, amount_received=amount)
    order.payment = payment  # type: ignore[attr-defined]
    return order


def tile(client, language: str) -> str:
    client.cookies["django_language"] = language
    html = client.get("/dashboard/").content.decode()
    return html.split('id="paid-today"')[1].split("</section>")[0]


def test_paid_today_shows_gross_refunds_and_net(as_user):  # noqa: F811
    paid(9_000)
    refunded = paid(6_000)
    Refund.objects.create(payment=refunded.payment, amount=6_000, currency="JPY", status="succeeded")
    # A refund Stripe has not finished is no money gone yet.
    Refund.objects.create(payment=refunded.payment, amount=1, currency="JPY", status="pending")

    html = tile(as_user("view"), "ja")
    assert 'data-role="gross">15,000円' in html
    assert 'data-role="refunds">−6,000円' in html
    assert 'data-role="net">9,000円' in html
    assert "¥" not in html


def test_a_day_with_only_refunds_is_negative_not_hidden(as_user):  # noqa: F811
    older = make_order(status="paid")
    payment = make_payment(older, status="succeeded")
    Refund.objects.create(payment=payment, amount=1_000, currency="JPY", status="succeeded")
    html = tile(as_user("view"), "en")
    assert 'data-role="gross">¥0' in html and 'data-role="net">−¥1,000' in html
