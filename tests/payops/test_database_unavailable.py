"""Issue 13.7: a request whose database connection is dropped mid-request (a restart, a
failover) answers 503 with Retry-After, on pages and on the API: a retry helps, a 500 says a bug."""

import pytest

pytestmark = pytest.mark.django_db


def dropped_connection(**kwargs):
    from django.db import OperationalError

    raise OperationalError("terminating connection due to administrator command")


@pytest.mark.parametrize(("language", "text"), [("ja", "もう一度お試しください"), ("en", "try again in a moment")])
def test_a_page_whose_connection_dies_mid_request_asks_to_retry_instead_of_a_500(client, monkeypatch, language, text):
    import orders.views

    monkeypatch.setattr(orders.views, "order_for_status_page", dropped_connection)
    response = client.get("/orders/" + "x" * 32 + "/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert text in response.content.decode()


def test_an_api_request_whose_connection_dies_mid_request_is_503_with_retry_after(client, monkeypatch):
    import orders.api.views.shopper

    monkeypatch.setattr(orders.api.views.shopper, "order_for_status_page", dropped_connection)
    response = client.get("/api/v1/orders/" + "x" * 32 + "/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["type"] == "urn:payops:problem:service-unavailable"
