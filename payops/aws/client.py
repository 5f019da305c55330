"""The one place that builds boto3 clients, and the one place that classifies AWS errors.

Settings are read when a client is asked for, not at import, so tests and the embedded profile
can point payops at a moto server. Three modes (``PAYOPS_AWS``):

* ``aws`` (production default): ``AWS_ENDPOINT_URL`` if given, else AWS's own endpoints, with
  credentials from boto3's usual chain (environment, instance or task role).
* ``embedded`` (development default): a moto server, found at ``AWS_ENDPOINT_URL`` or through
  the state file ``manage.py aws_embedded_up`` writes. Dummy credentials always, so the
  embedded profile can never reach a real AWS account by accident.
* ``off``: no AWS. Outbox rows and mails wait, nothing is lost.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from django.conf import settings

from payops.aws import embedded

# boto3's default session is not thread-safe to create clients from; clients themselves are.
_lock = threading.Lock()
_clients: dict[tuple[Any, ...], BaseClient] = {}

_EMBEDDED_CREDENTIALS = {"aws_access_key_id": "payops-embedded", "aws_secret_access_key": "payops-embedded"}

# Error codes that mean "too fast" (retry later, slower); the set spans the services payops uses.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
# Error codes of AWS's own trouble: the same request may well succeed later.
TRANSIENT_CODES = frozenset(
    {"InternalFailure", "InternalError", "InternalException", "ServiceUnavailable", "ServiceUnavailableException"}
)


class AwsNotConfigured(Exception):
    """AWS is switched off, or the embedded moto server is not running."""


def aws_mode() -> str:
    mode = str(settings.PAYOPS_AWS)
    if mode not in ("aws", "embedded", "off"):
        raise AwsNotConfigured(f"PAYOPS_AWS must be aws, embedded or off, not {mode!r}")
    return mode


def endpoint_url() -> str | None:
    """Where AWS requests go; None means AWS's regional endpoints."""
    mode = aws_mode()
    if mode == "off":
        raise AwsNotConfigured("AWS is switched off (PAYOPS_AWS=off)")
    if settings.AWS_ENDPOINT_URL:
        return str(settings.AWS_ENDPOINT_URL)
    if mode == "embedded":
        state = embedded.running_server()
        if state is None:
            raise AwsNotConfigured("the embedded AWS (moto) server is not running: manage.py aws_embedded_up")
        return state.endpoint
    return None


def is_configured() -> bool:
    try:
        endpoint_url()
    except AwsNotConfigured:
        return False
    return True


def aws_client(service: str) -> BaseClient:
    """A cached client for ``service``, built for the current settings.

    The cache key holds every setting that shapes the client, so a changed setting (a test,
    a restarted embedded server on another port) gets a fresh client instead of a stale one.
    """
    endpoint = endpoint_url()
    mode = aws_mode()
    key = (
        service,
        mode,
        endpoint,
        settings.AWS_REGION,
        settings.AWS_MAX_ATTEMPTS,
        settings.AWS_CONNECT_TIMEOUT_SECONDS,
        settings.AWS_READ_TIMEOUT_SECONDS,
    )
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            config = Config(
                region_name=settings.AWS_REGION,
                # "standard" retries throttling and transient errors with backoff and jitter.
                # total_max_attempts counts the first try, like the AWS_MAX_ATTEMPTS of the AWS
                # CLI and SDKs (Config's "max_attempts" would count retries only).
                retries={"mode": "standard", "total_max_attempts": max(int(settings.AWS_MAX_ATTEMPTS), 1)},
                connect_timeout=float(settings.AWS_CONNECT_TIMEOUT_SECONDS),
                read_timeout=float(settings.AWS_READ_TIMEOUT_SECONDS),
            )
            credentials = _EMBEDDED_CREDENTIALS if mode == "embedded" else {}
            client = boto3.session.Session().client(service, endpoint_url=endpoint, config=config, **credentials)
            _clients[key] = client
    return client


def forget_clients() -> None:
    """Drop cached clients (tests that register botocore event handlers start clean)."""
    with _lock:
        _clients.clear()


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_throttling(code: str) -> bool:
    return code in THROTTLING_CODES


def is_retryable(exc: BaseException) -> bool:
    """Would the same request succeed later? Throttling, AWS's 5xx and unreachable endpoints."""
    if isinstance(exc, AwsNotConfigured):
        return True
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return is_throttling(code) or code in TRANSIENT_CODES or status >= 500
    # Other botocore errors (unparseable responses, read timeouts) are transport trouble too.
    return isinstance(exc, BotoCoreError)


def backoff_seconds(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Delay before retry number ``attempts``: exponential, capped, with "equal jitter" so that
    it is never immediate and rows failed together do not come back in lockstep."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + random.uniform(0, delay / 2)  # jitter, not security


def describe_error(exc: BaseException) -> str:
    """A short, secret-free description for a row's ``last_error``."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".strip()[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


# botocore logs whole request and response bodies at DEBUG; for Secrets Manager and SSM those
# bodies are the secrets. Calls made inside ``wire_logs_suppressed()`` drop those records.
_suppress_wire_logs: contextvars.ContextVar[bool] = contextvars.ContextVar("payops_suppress_wire_logs", default=False)


class _DropWhileSuppressed(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _suppress_wire_logs.get()


for _logger_name in ("botocore.endpoint", "botocore.parsers", "botocore.awsrequest", "botocore.httpsession"):
    logging.getLogger(_logger_name).addFilter(_DropWhileSuppressed())


@contextlib.contextmanager
def wire_logs_suppressed() -> Iterator[None]:
    token = _suppress_wire_logs.set(True)
    try:
        yield
    finally:
        _suppress_wire_logs.reset(token)
