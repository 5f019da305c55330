"""Request rates: anonymous clients per address and endpoint, token clients per token.

Rates come from ``settings.PAYOPS_API_THROTTLE_RATES`` when a request is checked (not when
this module is imported), so they can be changed per environment and in tests. The counters
live in Django's cache: per process on the embedded default, shared across processes when
``REDIS_URL`` points the cache at Redis, as in production.

Staff using the dashboard's session are not throttled: they are few, known, and logged in.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


@functools.cache
def _counters() -> BaseCache:
    """One cache client per process for the counters.

    ``django.core.cache.cache`` is per request context: under ASGI every request builds a new
    Redis client with a new connection (and its handshake), which cost more than the whole rest
    of a public request (bench/api.py). A Django cache backend is safe to share between threads.
    """
    return caches.create_connection("default")


@receiver(setting_changed)
def _forget_counters(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _counters.cache_clear()


class _SettingsRateThrottle(SimpleRateThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s"

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        return _counters()

    def __init__(self) -> None:
        # SimpleRateThrottle reads its rate in __init__ from a class attribute fixed at import;
        # the scope is only known per view here, so the rate is read in allow_request.
        pass

    def get_rate(self) -> str | None:
        return settings.PAYOPS_API_THROTTLE_RATES.get(self.scope or "")

    def _configure(self, scope: str) -> bool:
        self.scope = scope
        self.rate = self.get_rate()
        if not self.rate:
            return False
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return True


class AnonymousThrottle(_SettingsRateThrottle):
    """Anonymous requests per client address, counted separately for each endpoint group
    (the view's ``throttle_scope``: ``checkout``, ``order_status``, ``catalogue``)."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.user is not None and request.user.is_authenticated:
            return True
        if not self._configure(f"anon_{getattr(view, 'throttle_scope', 'default')}"):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenThrottle(_SettingsRateThrottle):
    """Requests authenticated by an API token, per token, across every endpoint."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        token_id = _token_id(request.auth)
        if token_id is None or not self._configure("token"):
            return True
        self.token_id = token_id
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.token_id}


def _token_id(auth: Any) -> int | None:
    from payops.apikeys.models import ApiToken

    return auth.pk if isinstance(auth, ApiToken) else None
