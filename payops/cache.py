"""Django's Redis cache, kept working per process while Redis is unreachable (issue 13.6).

What payops keeps in the cache can be lost without harm: rate-limit counters (API throttling,
sign-in attempts, WebSocket connects) and a few dashboard figures cached for seconds. So a Redis
outage must not turn a checkout, an order-status request or a sign-in into a 500. While Redis
cannot be reached, every cache call goes to a local-memory cache of this process instead: rate
limits still hold, per process (as on the embedded default), and a warning says so once per
outage. Redis is tried again every ``RETRY_SECONDS``; its counters are used as soon as it answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# After a failure, calls go straight to the local cache for this long: a request must not wait
# for a connection attempt to an absent Redis on every cache call.
RETRY_SECONDS = 5.0


class RedisCacheWithLocalFallback(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._local = LocMemCache(f"payops-cache-fallback-{id(self)}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self._retry_redis_at = 0.0
        self._outage_logged = False
        self._lock = threading.Lock()

    def _either(self, redis_call: Callable[[], T], local_call: Callable[[], T]) -> T:
        if time.monotonic() < self._retry_redis_at:
            return local_call()
        try:
            result = redis_call()
        except RedisError as exc:
            with self._lock:
                self._retry_redis_at = time.monotonic() + RETRY_SECONDS
                if not self._outage_logged:
                    self._outage_logged = True
                    logger.warning(
                        "Redis cache unreachable (%s): rate limits and cached figures are kept per process "
                        "until it answers again",
                        exc,
                    )
            return local_call()
        if self._outage_logged:
            with self._lock:
                if self._outage_logged:
                    self._outage_logged = False
                    logger.warning("Redis cache answers again: shared rate limits and cached figures resume")
        return result

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).add(key, value, timeout, version),
            lambda: self._local.add(key, value, timeout, version),
        )

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).get(key, default, version),
            lambda: self._local.get(key, default, version),
        )

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._either(
            lambda: super(RedisCacheWithLocalFallback, self).set(key, value, timeout, version),
            lambda: self._local.set(key, value, timeout, version),
        )

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).touch(key, timeout, version),
            lambda: self._local.touch(key, timeout, version),
        )

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).delete(key, version),
            lambda: self._local.delete(key, version),
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).get_many(keys, version),
            lambda: self._local.get_many(keys, version),
        )

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).has_key(key, version),
            lambda: self._local.has_key(key, version),
        )

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).incr(key, delta, version),
            lambda: self._local.incr(key, delta, version),
        )

    def set_many(
        self, data: dict[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._either(
            lambda: super(RedisCacheWithLocalFallback, self).set_many(data, timeout, version),
            lambda: self._local.set_many(data, timeout, version),
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._either(
            lambda: super(RedisCacheWithLocalFallback, self).delete_many(keys, version),
            lambda: self._local.delete_many(keys, version),
        )

    def clear(self) -> None:
        self._either(lambda: super(RedisCacheWithLocalFallback, self).clear(), self._local.clear)
