"""CORS for browser frontends on other origins, from settings, for /api/ only."""

import pytest

from tests.factories import make_product

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.jp"


@pytest.fixture(autouse=True)
def origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]


def preflight(client, path, origin, method="POST", headers="content-type,idempotency-key,authorization"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_preflight_from_an_allowed_origin(client):
    response = preflight(client, "/api/v1/checkout/", SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    allowed = response["Access-Control-Allow-Headers"]
    assert {"idempotency-key", "authorization", "content-type"} <= set(allowed.split(", "))
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_responses_expose_the_api_headers_to_the_frontend(client):
    make_product(sku="TEA")
    response = client.get("/api/v1/products/", HTTP_ORIGIN=SHOP)
    assert response["Access-Control-Allow-Origin"] == SHOP
    exposed = response["Access-Control-Expose-Headers"]
    assert {"Idempotent-Replayed", "Retry-After"} <= set(exposed.split(", "))


def test_error_responses_carry_cors_headers_too(client):
    response = client.get("/api/v1/nope/", HTTP_ORIGIN=SHOP)
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == SHOP


def test_other_origins_get_no_cors_headers(client):
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/checkout/", "https://evil.example")
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/products/", HTTP_ORIGIN="https://evil.example")


def test_pages_outside_the_api_get_no_cors_headers(client):
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=SHOP)


def test_nothing_is_allowed_when_no_origin_is_configured(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/checkout/", SHOP)
