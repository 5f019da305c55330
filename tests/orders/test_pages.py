import pytest

from tests.factories import make_order, make_payment
from tests.fakes.stripe_api import KONBINI_ACTION

pytestmark = pytest.mark.django_db


@pytest.fixture
def konbini_order():
    order = make_order(status="awaiting_payment", locale="ja")
    make_payment(order, method="konbini", status="requires_action", next_action=KONBINI_ACTION)
    return order


def test_status_page_shows_the_voucher_in_the_orders_language(client, konbini_order):
    response = client.get(f"/orders/{konbini_order.token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "お支払い待ち" in html and "お支払い番号" in html and "123456" in html
    assert 'role="status"' in html and 'aria-live="polite"' in html
    assert f'data-socket-path="/ws/orders/{konbini_order.token}/"' in html
    # no internal ids and nothing from a CDN
    assert f"/{konbini_order.pk}/" not in html and "pi_test_" not in html
    assert "https://cdn" not in html and "//unpkg" not in html


def test_status_page_in_english(client):
    order = make_order(status="awaiting_payment", locale="en")
    make_payment(order, method="konbini", status="requires_action", next_action=KONBINI_ACTION)
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "Awaiting payment" in html and "Payment code" in html


@pytest.mark.parametrize("token", ["A" * 32, "short", "with space" * 4, "../../admin"])
def test_unknown_or_malformed_token_is_a_404_that_reveals_nothing(client, konbini_order, token):
    response = client.get(f"/orders/{token}/")
    assert response.status_code == 404
    assert konbini_order.number.encode() not in response.content


def test_page_never_shows_another_orders_data(client, konbini_order):
    other = make_order(status="paid", email="someone.else@example.com")
    html = client.get(f"/orders/{konbini_order.token}/").content.decode()
    assert other.number not in html and "someone.else" not in html
