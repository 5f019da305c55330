"""The refund form checks the amount on its first step, in words a person understands
(issue 14.9): a decimal on a yen order, or more than can be refunded, never reaches
"はい、実行します"."""

from __future__ import annotations

import pytest

from orders.models import Refund
from tests.dashboard.conftest import as_user, paid_order, stripe, users  # noqa: F401
from tests.dashboard.test_actions import act

pytestmark = pytest.mark.django_db


def first_step(client, order, amount: str, *, language: str = "en"):
    client.cookies["django_language"] = language
    return act(
        client, f"/dashboard/orders/{order.number}/actions/refund/", {"amount": amount, "reason": "x"}, confirm=False
    )


def test_a_decimal_on_a_yen_order_is_refused_on_the_first_step_in_words(as_user, paid_order):  # noqa: F811
    response = first_step(as_user("refund"), paid_order, "100.5")
    html = response.content.decode()
    assert response.status_code == 400 and 'name="confirm"' not in html
    assert "Enter a whole amount: JPY has no decimal places." in html
    assert "Decimal(" not in html and "has more" not in html


def test_more_than_can_be_refunded_is_refused_before_the_confirm_step(as_user, paid_order):  # noqa: F811
    # paid_order received ¥10,000
    response = first_step(as_user("refund"), paid_order, "10001")
    html = response.content.decode()
    assert response.status_code == 400 and 'name="confirm"' not in html
    assert "At most ¥10,000 can still be refunded on this order." in html
    assert not Refund.objects.exists()


def test_the_japanese_page_says_it_in_japanese(as_user, paid_order):  # noqa: F811
    html = first_step(as_user("refund"), paid_order, "20000", language="ja").content.decode()
    assert "返金できるのはあと 10,000円 までです。" in html


def test_the_whole_refundable_amount_still_goes_to_the_confirm_step(as_user, paid_order):  # noqa: F811
    response = first_step(as_user("refund"), paid_order, "10000")
    assert response.status_code == 200 and 'name="confirm"' in response.content.decode()
