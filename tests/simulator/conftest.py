from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe

from payops.stripe.gateway import StripeGateway
from tests.simulator.clients import DjangoClientHTTPClient, simulator_gateway, simulator_stripe_client

SECRET_KEY = "sk_test_simulator_suite"
WEBHOOK_SECRET = "whsec_simulator_suite"


@pytest.fixture(autouse=True)
def simulator_settings(settings: Any, db: None) -> Any:
    """The simulator on, a test key, and no background delivery thread (tests deliver by hand)."""
    settings.PAYMENT_SIMULATOR = True
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET, "whsec_older_secret"]
    settings.PAYOPS_BASE_URL = "http://testserver"
    settings.SIMULATOR_DELIVERY = "manual"
    settings.SIMULATOR_DELIVERY_RETRY_DELAYS = (0.0, 0.0, 0.0)
    return settings


@pytest.fixture
def transport() -> DjangoClientHTTPClient:
    return DjangoClientHTTPClient()


@pytest.fixture
def gateway(transport: DjangoClientHTTPClient) -> StripeGateway:
    return simulator_gateway(http_client=transport)


@pytest.fixture
def stripe_client(transport: DjangoClientHTTPClient) -> stripe.StripeClient:
    return simulator_stripe_client(http_client=transport)


@dataclass
class RecordingSend:
    """A webhook sender for ``deliver_pending_events`` that records requests and answers with ``statuses``."""

    statuses: list[int | Exception] = field(default_factory=list)
    calls: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.calls.append((url, body, dict(headers)))
        outcome = self.statuses.pop(0) if self.statuses else 200
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def events(self) -> list[stripe.Event]:
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], WEBHOOK_SECRET)
            for _, body, headers in self.calls
        ]

    def types(self) -> list[str]:
        return [event.type for event in self.events()]


@pytest.fixture
def recording_send() -> RecordingSend:
    return RecordingSend()
