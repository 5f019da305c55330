"""Test helpers: drive the simulator through the real stripe library without a network.

``DjangoClientHTTPClient`` is a ``stripe.HTTPClient`` that hands each request to Django's test
``Client``, so a ``StripeGateway`` (or a ``stripe.StripeClient``) built on it exercises the same
code path as in production — form encoding, headers, error mapping — against the simulator
running in the test's own database transaction::

    gateway = simulator_gateway()
    intent = gateway.create_payment_intent(...)

Only the path of the URL is used: whatever ``STRIPE_API_BASE`` says, requests reach the Django
URLconf of the test (which must mount ``payops.simulator.urls`` at ``/simulator/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.test import Client
from requests.structures import CaseInsensitiveDict

from payops.stripe.gateway import StripeGateway

# Where the simulator's Stripe API lives when the project mounts it at /simulator/.
SIMULATOR_API_BASE_PATH = "/simulator/stripe"


class DjangoClientHTTPClient(stripe.HTTPClient):
    name = "django-test-client"

    def __init__(self, *, client: Client | None = None) -> None:
        super().__init__()
        self.client = client or Client()
        # Every request as (method, path with query, headers, body) for assertions.
        self.requests: list[tuple[str, str, dict[str, str], str]] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        sent = dict(headers or {})
        content_type = sent.pop("Content-Type", "application/x-www-form-urlencoded")
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        self.requests.append((method.upper(), target, dict(headers or {}), body))
        response = self.client.generic(method.upper(), target, data=body, content_type=content_type, headers=sent)
        return response.content.decode(), response.status_code, CaseInsensitiveDict(dict(response.headers))

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        raise NotImplementedError("the payment simulator has no streaming endpoints")

    def close(self) -> None:
        pass


def simulator_api_base() -> str:
    return f"{settings.PAYOPS_BASE_URL}{SIMULATOR_API_BASE_PATH}"


def simulator_stripe_client(
    *, http_client: DjangoClientHTTPClient | None = None, api_key: str | None = None
) -> stripe.StripeClient:
    """A ``stripe.StripeClient`` talking to the simulator through Django's test client."""
    return stripe.StripeClient(
        api_key or settings.STRIPE_SECRET_KEY,
        base_addresses={"api": simulator_api_base()},
        http_client=http_client or DjangoClientHTTPClient(),
        max_network_retries=0,
    )


def simulator_gateway(
    *, http_client: DjangoClientHTTPClient | None = None, api_key: str | None = None
) -> StripeGateway:
    """payops's own ``StripeGateway`` talking to the simulator through Django's test client."""
    return StripeGateway(
        api_key=api_key or settings.STRIPE_SECRET_KEY,
        api_base=simulator_api_base(),
        timeout=5.0,
        max_network_retries=0,
        http_client=http_client or DjangoClientHTTPClient(),
    )
