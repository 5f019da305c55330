"""Rate limits: anonymous clients per address and endpoint group, token clients per token."""

import pytest

from tests.api.fixtures import as_token, assert_problem, bearer
from tests.factories import make_order, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.PAYOPS_API_THROTTLE_RATES = {**settings.PAYOPS_API_THROTTLE_RATES, **rates}

    return set_rates


def test_anonymous_checkout_is_limited_per_address_with_retry_after(anon, rates):
    rates(anon_checkout="2/min")
    statuses = [anon.post("/api/v1/checkout/", {}).status_code for _ in range(2)]
    assert statuses == [400, 400]  # counted even when invalid
    response = anon.post("/api/v1/checkout/", {})
    problem = assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "throttled" in problem["detail"]


def test_each_endpoint_group_has_its_own_budget(anon, rates):
    rates(anon_checkout="1/min", anon_order_status="2/min")
    order = make_order()
    make_product(sku="TEA")
    anon.post("/api/v1/checkout/", {})
    assert_problem(anon.post("/api/v1/checkout/", {}), 429)
    assert anon.get("/api/v1/products/").status_code == 200
    assert anon.get(f"/api/v1/orders/{order.token}/").status_code == 200
    assert anon.get(f"/api/v1/orders/{order.token}/").status_code == 200
    assert_problem(anon.get(f"/api/v1/orders/{order.token}/"), 429)


def test_other_addresses_are_not_affected(client, rates):
    rates(anon_catalogue="1/min")
    assert client.get("/api/v1/products/", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get("/api/v1/products/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/v1/products/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_client_cannot_dodge_the_limit_with_x_forwarded_for(client, rates):
    rates(anon_catalogue="1/min")
    assert client.get("/api/v1/products/", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert client.get("/api/v1/products/", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts(client, rates, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    rates(anon_catalogue="1/min")
    assert client.get("/api/v1/products/", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert client.get("/api/v1/products/", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 200
    assert client.get("/api/v1/products/", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_token_clients_are_limited_per_token_across_endpoints(client, viewer, rates):
    rates(token="3/min", anon_catalogue="1/min")
    first, second = bearer(viewer), bearer(viewer)
    assert client.get("/api/v1/products/", **first).status_code == 200  # not the anonymous budget
    assert client.get("/api/v1/products/", **first).status_code == 200
    assert client.get("/api/v1/staff/orders/", **first).status_code == 200
    response = client.get("/api/v1/staff/orders/", **first)
    assert_problem(response, 429, "throttled")
    assert response["Retry-After"]
    assert client.get("/api/v1/staff/orders/", **second).status_code == 200


def test_the_dashboard_session_is_not_throttled(client, viewer, rates):
    rates(token="1/min")
    client.force_login(viewer)
    assert {client.get("/api/v1/staff/orders/").status_code for _ in range(5)} == {200}


def test_rates_can_be_switched_off(anon, rates, settings):
    settings.PAYOPS_API_THROTTLE_RATES = {}
    make_product(sku="TEA")
    assert {anon.get("/api/v1/products/").status_code for _ in range(20)} == {200}


def test_token_fixture_still_works_after_a_throttle(client, viewer, rates):
    rates(token="1/min")
    api = as_token(client, viewer)
    api.get("/api/v1/staff/orders/")
    assert_problem(api.get("/api/v1/staff/orders/"), 429)
