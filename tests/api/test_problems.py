"""Every answer under /api/ that is an error is application/problem+json: never HTML, never a trace."""

import logging

import pytest
from django.test import Client

from tests.api.fixtures import as_token, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_client():
    """A client that gets the 500 response rather than the exception re-raised in the test."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v2/products/", "/api/v1/staff/orders/x/y/z/"])
def test_unknown_paths_are_404_problems_not_html(client, settings, debug, path):
    settings.DEBUG = debug
    response = client.get(path)
    problem = assert_problem(response, 404, "not-found")
    assert "<html" not in response.content.decode().lower()
    assert "Traceback" not in problem["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_its_trailing_slash_is_a_problem_too(quiet_client, settings, debug):
    settings.DEBUG = debug  # in DEBUG, CommonMiddleware raises a RuntimeError here
    response = quiet_client.post("/api/v1/checkout", "{}", content_type="application/json")
    if debug:
        assert_problem(response, 500, "internal-error")
        assert "<html" not in response.content.decode().lower()
    else:
        assert (response.status_code, response["Location"]) == (301, "/api/v1/checkout/")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/checkout/"), ("delete", "/api/v1/products/"), ("put", "/api/v1/staff/orders/")],
)
def test_wrong_methods_are_405_problems_with_allow(client, viewer, method, path):
    client.force_login(viewer)
    response = getattr(client, method)(path)
    assert_problem(response, 405, "method-not-allowed")
    assert response["Allow"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_in_a_view_is_a_bare_500_problem_and_is_logged(quiet_client, settings, monkeypatch, caplog, debug):
    settings.DEBUG = debug

    def explode(**kwargs):
        raise RuntimeError("secret internals: db password is hunter2")

    monkeypatch.setattr("orders.api.views.shopper.order_for_status_page", explode)
    with caplog.at_level(logging.ERROR):
        response = quiet_client.get("/api/v1/orders/" + "x" * 32 + "/")

    problem = assert_problem(response, 500, "internal-error")
    body = response.content.decode()
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert problem["title"] == "Internal error"
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_outside_drf_under_api_is_a_problem(quiet_client, settings, monkeypatch, debug):
    """The schema view's generator failing stands for any non-DRF failure under /api/."""
    settings.DEBUG = debug

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("drf_spectacular.views.SpectacularAPIView.get", explode)
    response = quiet_client.get("/api/schema/")
    assert_problem(response, 500, "internal-error")
    assert "boom" not in response.content.decode()


def test_pages_outside_the_api_keep_their_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]


def test_validation_errors_name_each_field(client):
    response = client.post(
        "/api/v1/checkout/", '{"items": [{"sku": "A", "quantity": 0}]}', content_type="application/json"
    )
    problem = assert_problem(response, 400, "validation-error")
    assert set(problem["errors"]) >= {"items[0].quantity", "email", "payment_method", "locale"}
    assert "items[0].quantity" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "slug"),
    [
        ("{not json", "application/json", 400, "malformed-request"),
        ("a=1", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ],
)
def test_unparsable_bodies(client, body, content_type, status, slug):
    assert_problem(client.post("/api/v1/checkout/", body, content_type=content_type), status, slug)


def test_not_acceptable(client):
    assert_problem(client.get("/api/v1/products/", HTTP_ACCEPT="text/html"), 406, "not-acceptable")


def test_permission_problems_for_staff_endpoints(client, viewer):
    assert_problem(client.get("/api/v1/staff/mails/"), 401, "not-authenticated")
    response = client.get("/api/v1/staff/mails/", HTTP_AUTHORIZATION="Bearer pyo_revoked")
    assert_problem(response, 401, "authentication-failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="payops"'
    assert as_token(client, viewer).get("/api/v1/staff/mails/").status_code == 200
