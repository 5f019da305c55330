"""payops's secrets: the Stripe secret key, webhook signing secrets, outside-payment secrets.

Where they come from is configuration (``PAYOPS_SECRETS_BACKEND``):

* ``env`` (development default): the settings read from the environment;
* ``secretsmanager``: one JSON secret ``PAYOPS_SECRETS_ID``:
  ``{"stripe_secret_key": "sk_...", "stripe_webhook_secrets": ["whsec_...", ...],
  "outside_payment_secrets": {"mybank": "..."}}``;
* ``ssm``: SecureString parameters under ``PAYOPS_SECRETS_SSM_PATH``: ``stripe_secret_key``,
  ``stripe_webhook_secrets`` (comma-separated), ``outside_payment/<source>``.

Values are cached for ``PAYOPS_SECRETS_TTL_SECONDS``. A webhook signature that fails with every
cached secret asks for ``refresh=True`` once (the secret may have been rotated); forced refreshes
are rate-limited so a stream of forged webhooks cannot turn into a stream of AWS calls. If the
store cannot be reached at refresh time, the last good copy is kept and the failure logged.

A value is held in a ``Secret``, whose repr is masked and which refuses to be pickled (so it can
never travel in a Celery message); ``RedactSecretsFilter`` and ``SecretsExceptionReporterFilter``
keep known values out of log lines and error reports even when other code slips.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import ItemsView, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.debug import sensitive_variables

from payops.aws import secretsmanager, ssm
from payops.aws.client import describe_error
from payops.aws.secretsmanager import SecretFormatError

logger = logging.getLogger(__name__)

_MASK = "**********"
# Shorter strings are too likely to occur by chance to be redacted everywhere.
_MIN_REDACT_LENGTH = 8


class Secret:
    """A secret string that does not show itself: ``repr``, ``str`` and f-strings print a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is never pickled (not into a task message, not into a cache)")


@dataclass(frozen=True)
class PayopsSecrets:
    source: str
    stripe_secret_key: Secret
    stripe_webhook_secrets: tuple[Secret, ...]
    outside_payment_secrets: Mapping[str, Secret] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"PayopsSecrets(source={self.source!r}, webhook_secrets={len(self.stripe_webhook_secrets)}, "
            f"outside_payment_sources={sorted(self.outside_payment_secrets)})"
        )

    def values(self) -> list[str]:
        secrets = [self.stripe_secret_key, *self.stripe_webhook_secrets, *self.outside_payment_secrets.values()]
        return [s.reveal() for s in secrets if len(s.reveal()) >= _MIN_REDACT_LENGTH]


class SecretsUnavailable(Exception):
    """The secrets store could not be read and no earlier copy is cached."""


@dataclass
class _Cache:
    config: tuple[str, ...]
    secrets: PayopsSecrets | None  # None: no read has succeeded yet
    loaded_at: float
    expires_at: float
    attempted_at: float  # the last read, good or not: forced refreshes are limited from it
    error: str = ""


_lock = threading.Lock()
_cache: _Cache | None = None
_known_values: frozenset[str] = frozenset()


def _clock() -> float:
    return time.monotonic()


def _config() -> tuple[str, ...]:
    backend = str(settings.PAYOPS_SECRETS_BACKEND)
    if backend == "secretsmanager":
        return (backend, str(settings.PAYOPS_SECRETS_ID))
    if backend == "ssm":
        return (backend, str(settings.PAYOPS_SECRETS_SSM_PATH))
    if backend == "env":
        return (backend,)
    raise SecretsUnavailable(f"PAYOPS_SECRETS_BACKEND must be env, secretsmanager or ssm, not {backend!r}")


def load_secrets(*, refresh: bool = False) -> PayopsSecrets:
    """The current secrets, from the cache while it is fresh.

    The store is read when the TTL has run out, or on ``refresh`` — but never twice within
    ``PAYOPS_SECRETS_MIN_REFRESH_SECONDS``, failed reads included: a flood of forged webhooks
    (or a store that is down) must not become a flood of AWS calls, each waiting on a timeout.
    """
    global _cache
    config = _config()
    if config[0] == "env":
        # Settings are already in memory and tests change them: read them every time.
        secrets = _load(config)
        _remember(secrets)
        return secrets
    now = _clock()
    min_interval = float(settings.PAYOPS_SECRETS_MIN_REFRESH_SECONDS)
    with _lock:
        cached = _cache if _cache is not None and _cache.config == config else None
        if cached is not None:
            fresh = now < cached.expires_at and not refresh
            if (fresh or now - cached.attempted_at < min_interval) and cached.secrets is not None:
                return cached.secrets
            if cached.secrets is None and now - cached.attempted_at < min_interval:
                raise SecretsUnavailable(f"could not read secrets from {config[0]}: {cached.error}")
        try:
            secrets = _load(config)
        except Exception as exc:
            error = describe_error(exc)
            if cached is None or cached.secrets is None:
                _cache = _Cache(config=config, secrets=None, loaded_at=0, expires_at=0, attempted_at=now, error=error)
                raise SecretsUnavailable(f"could not read secrets from {config[0]}: {error}") from exc
            logger.warning(
                "could not refresh secrets from %s (%s); keeping the copy loaded %.0f s ago",
                config[0],
                error,
                now - cached.loaded_at,
            )
            cached.attempted_at, cached.error = now, error
            return cached.secrets
        _remember(secrets)
        previous = cached.secrets if cached is not None else None
        _cache = _Cache(
            config=config,
            secrets=secrets,
            loaded_at=now,
            expires_at=now + float(settings.PAYOPS_SECRETS_TTL_SECONDS),
            attempted_at=now,
        )
        changed = previous is not None and previous != secrets
        logger.info("secrets loaded from %r%s", secrets, " (changed: rotated)" if changed else "")
        return secrets


def forget_cached_secrets() -> None:
    global _cache
    with _lock:
        _cache = None


@sensitive_variables()
def stripe_secret_key() -> str:
    return load_secrets().stripe_secret_key.reveal()


@sensitive_variables()
def stripe_webhook_secrets(*, refresh: bool = False) -> list[str]:
    """Every currently valid webhook signing secret (several while Stripe rotates with overlap)."""
    return [secret.reveal() for secret in load_secrets(refresh=refresh).stripe_webhook_secrets]


def cached_secrets() -> PayopsSecrets | None:
    """The secrets if they can be had without reading the store — no I/O, so safe on an event
    loop — or None when the store must be read first (at start, or once the TTL has run out)."""
    config = _config()
    if config[0] == "env":
        return _load(config)
    cached = _cache
    if cached is None or cached.config != config or cached.secrets is None or _clock() >= cached.expires_at:
        return None
    return cached.secrets


@sensitive_variables()
def outside_payment_secret(source: str, *, refresh: bool = False) -> str | None:
    """The HMAC secret of a payment source outside Stripe, or None for an unknown source."""
    secret = load_secrets(refresh=refresh).outside_payment_secrets.get(source)
    return secret.reveal() if secret else None


# --- the stores -------------------------------------------------------------------------------


@sensitive_variables()
def _load(config: tuple[str, ...]) -> PayopsSecrets:
    if config[0] == "secretsmanager":
        return _from_mapping(secretsmanager.get_json_secret(config[1]), source=f"secretsmanager:{config[1]}")
    if config[0] == "ssm":
        return _from_ssm(ssm.get_parameters_by_path(config[1]), source=f"ssm:{config[1]}")
    return PayopsSecrets(
        source="env",
        stripe_secret_key=Secret(settings.STRIPE_SECRET_KEY),
        stripe_webhook_secrets=tuple(Secret(s) for s in settings.STRIPE_WEBHOOK_SECRETS if s),
        outside_payment_secrets={k: Secret(v) for k, v in settings.PAYOPS_OUTSIDE_PAYMENT_SECRETS.items() if v},
    )


@sensitive_variables()
def _from_mapping(data: Mapping[str, Any], *, source: str) -> PayopsSecrets:
    key = data.get("stripe_secret_key")
    if not isinstance(key, str) or not key:
        raise SecretFormatError(f"{source} has no stripe_secret_key string")
    webhook = data.get("stripe_webhook_secrets", [])
    if isinstance(webhook, str):
        webhook = webhook.split(",")
    if not isinstance(webhook, list) or not all(isinstance(s, str) for s in webhook):
        raise SecretFormatError(f"{source}: stripe_webhook_secrets must be a list of strings or comma-separated")
    outside = data.get("outside_payment_secrets", {})
    if not isinstance(outside, dict) or not all(isinstance(v, str) for v in outside.values()):
        raise SecretFormatError(f"{source}: outside_payment_secrets must map source names to strings")
    return PayopsSecrets(
        source=source,
        stripe_secret_key=Secret(key),
        stripe_webhook_secrets=tuple(Secret(s.strip()) for s in webhook if s.strip()),
        outside_payment_secrets={str(k): Secret(v) for k, v in outside.items() if v},
    )


@sensitive_variables()
def _from_ssm(parameters: Mapping[str, str], *, source: str) -> PayopsSecrets:
    prefix = "outside_payment/"
    return _from_mapping(
        {
            "stripe_secret_key": parameters.get("stripe_secret_key", ""),
            "stripe_webhook_secrets": parameters.get("stripe_webhook_secrets", ""),
            "outside_payment_secrets": {
                name.removeprefix(prefix): value for name, value in parameters.items() if name.startswith(prefix)
            },
        },
        source=source,
    )


# --- keeping values out of logs and error reports ----------------------------------------------


def _remember(secrets: PayopsSecrets) -> None:
    global _known_values
    _known_values = _known_values | frozenset(secrets.values())


def known_secret_values() -> frozenset[str]:
    """Every secret value this process has loaded (old ones included: they may still be in use)."""
    return _known_values | frozenset(
        v
        for v in (settings.STRIPE_SECRET_KEY, *settings.STRIPE_WEBHOOK_SECRETS)
        if isinstance(v, str) and len(v) >= _MIN_REDACT_LENGTH
    )


def redact(text: str) -> str:
    for value in known_secret_values():
        if value in text:
            text = text.replace(value, _MASK)
    return text


class RedactSecretsFilter(logging.Filter):
    """A handler filter: a known secret value in a log line is replaced by a mask."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken log call is not this filter's to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the DEBUG page, mails to admins) never show a secret.

    Django's own filter stands down when DEBUG is on; this one honours ``sensitive_variables``
    always and also masks any frame variable whose repr contains a known secret value.
    """

    def is_active(self, request: Any) -> bool:
        return True

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        values = known_secret_values()
        cleansed: dict[str, Any] = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            try:
                text = repr(value)
            except Exception:  # an unprintable value cannot leak through repr either
                text = ""
            cleansed[name] = self.cleansed_substitute if any(v in text for v in values) else value
        return cleansed.items()
