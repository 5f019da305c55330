from __future__ import annotations

from collections.abc import Iterator

import pytest

from payops.celery import app as celery_app
from tests.fakes.stripe_api import FakeStripeApi, FakeStripeServer


@pytest.fixture(scope="session", autouse=True)
def _celery_eager() -> Iterator[None]:
    """Unit tests run tasks in process; worker tests start a real worker explicitly."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def _fake_stripe_server() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server: FakeStripeServer, settings: pytest.FixtureRequest) -> Iterator[FakeStripeApi]:
    """Point payops's StripeGateway at a recording fake Stripe API over real HTTP."""
    settings.STRIPE_API_BASE = _fake_stripe_server.fake.url  # type: ignore[attr-defined]
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # type: ignore[attr-defined]
    settings.STRIPE_TIMEOUT_SECONDS = 2.0  # type: ignore[attr-defined]
    _fake_stripe_server.reset()
    yield _fake_stripe_server.fake
    _fake_stripe_server.reset()


@pytest.fixture(scope="session", autouse=True)
def _aws_off_unless_asked() -> Iterator[None]:
    """No test reaches AWS (or a developer's embedded moto) unless it uses the ``aws`` fixture
    of tests/aws_fixtures.py; outbox rows and mails written by other tests simply wait."""
    from django.test import override_settings

    with override_settings(PAYOPS_AWS="off", AWS_ENDPOINT_URL="", PAYOPS_SECRETS_BACKEND="env"):
        yield


@pytest.fixture(scope="session", autouse=True)
def _media_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files saved through the storage API (product images) land in a folder of this run, never in var/."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield
