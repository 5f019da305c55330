"""The OpenAPI schema: generated warning-free, complete, and served with docs that need no CDN."""

import io
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def api_routes():
    """Every route under /api/v1/ as the schema spells it: /api/v1/staff/orders/{number}/."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)

    return {route for route in walk(get_resolver().url_patterns, "") if route.startswith("/api/v1/")}


def test_the_schema_generates_and_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1.0.0"
    assert "Idempotency-Key" in schema["info"]["description"]


def test_every_api_route_is_documented(schema):
    def shape(path):  # the schema calls <int:pk> "{id}"
        return re.sub(r"\{\w+\}", "{}", path)

    assert {shape(p) for p in api_routes()} == {shape(p) for p in schema["paths"]}


def test_every_operation_has_an_id_a_summary_a_tag_and_success(schema):
    for path, method, operation in operations(schema):
        assert operation.get("operationId"), (path, method)
        assert operation.get("summary"), (path, method)
        assert operation.get("tags"), (path, method)
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)


def test_every_error_is_a_documented_problem_with_an_example(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"], (path, method, code)
                assert response["content"]["application/problem+json"].get("examples"), (path, method, code)
                assert response["description"], (path, method, code)
        assert "429" in operation["responses"], (path, method)
        assert "401" in operation["responses"], (path, method)


def test_every_post_takes_an_idempotency_key_and_documents_its_conflicts(schema):
    posts = [(path, op) for path, method, op in operations(schema) if method == "post"]
    assert len(posts) >= 10
    for path, operation in posts:
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"], path
        assert {"400", "409", "422"} <= set(operation["responses"]), path
        success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
        assert "Idempotent-Replayed" in success.get("headers", {}), path


def test_staff_operations_require_auth_and_public_ones_do_not(schema):
    for path, method, operation in operations(schema):
        public = {} in operation.get("security", [])
        assert public == (not path.startswith(("/api/v1/staff/", "/api/v1/tokens/"))), (path, method)
        if not public:
            assert "403" in operation["responses"], (path, method)


def test_every_property_of_every_component_is_typed_or_described(schema):
    for name, component in schema["components"]["schemas"].items():
        for prop, spec in component.get("properties", {}).items():
            typed = any(key in spec for key in ("type", "$ref", "allOf", "oneOf", "enum"))
            assert typed or "any JSON" in spec.get("description", ""), (name, prop)


def test_schema_and_docs_are_served(client):
    served = client.get("/api/schema/?format=json")
    assert served.status_code == 200
    assert served.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"https?://(cdn|unpkg|fonts|[^\"']*jsdelivr)", html), "docs must not load from a CDN"
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/api/redoc/").status_code == 200
