"""Fixtures for API tests: staff at each level, tokens, a JSON client, fresh rate limits.

Used by tests/api/ and tests/orders/api/ (their conftest.py import everything from here).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from payops.apikeys.services import api_token_create
from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings: Any) -> Iterator[None]:
    """Rate-limit counters live in the cache, and every test client has the same address.

    A private in-memory cache per test: the Redis database of REDIS_URL may be shared with
    another test run on the machine, whose counters must not throttle this one (nor be flushed).
    """
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}}
    cache.clear()
    yield
    cache.clear()


def make_staff(username: str, level: str | None) -> User:
    # No password: hashing one costs ~0.5 s per user, and tests log in with force_login.
    user = User.objects.create_user(username=username, password=None, is_staff=level is not None)
    if level is not None:
        user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel(level)]))
    return user


@pytest.fixture
def viewer(db: Any) -> User:
    return make_staff("viewer", "view")


@pytest.fixture
def operator(db: Any) -> User:
    return make_staff("operator", "operate")


@pytest.fixture
def refunder(db: Any) -> User:
    return make_staff("refunder", "refund")


@pytest.fixture
def outsider(db: Any) -> User:
    """Signed in, but no staff level at all."""
    return make_staff("outsider", None)


def bearer(user: User, level: str | None = None) -> dict[str, str]:
    """Request headers with a fresh token of ``user`` at ``level`` (default: the user's highest)."""
    from payops.staff.levels import user_highest_level

    chosen = level or user_highest_level(user) or "view"
    created = api_token_create(user=user, name="test", level=chosen, created_by=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {created.plaintext}"}


class JsonClient:
    """Django's test client speaking JSON, with optional Bearer token and Idempotency-Key."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def get(self, path: str, **extra: Any) -> Any:
        return self.client.get(path, **{**self.headers, **extra})

    def post(self, path: str, data: Any = None, *, key: str | None = None, **extra: Any) -> Any:
        body = data if isinstance(data, (str, bytes)) else json.dumps({} if data is None else data)
        headers = {**self.headers, **extra}
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return self.client.post(path, body, content_type=headers.pop("content_type", "application/json"), **headers)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.client.delete(path, **{**self.headers, **extra})


@pytest.fixture
def anon(client: Client) -> JsonClient:
    return JsonClient(client)


def as_token(client: Client, user: User, level: str | None = None) -> JsonClient:
    return JsonClient(client, bearer(user, level))


def new_key() -> str:
    return str(uuid.uuid4())


def assert_problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:payops:problem:")
    if slug is not None:
        assert problem["type"] == f"urn:payops:problem:{slug}", problem
    assert {"type", "title", "status", "detail"} <= set(problem)
    return problem
