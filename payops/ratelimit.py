"""A small fixed-window rate limit on Django's cache (per process with the default local-memory
cache; shared across processes when CACHES points at Redis, as in production)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def allow_connection(*, key: str, limit: int | None = None, window_seconds: int = 60) -> bool:
    limit = limit if limit is not None else settings.PAYOPS_WS_CONNECTS_PER_MINUTE
    bucket = f"ratelimit:{key}:{int(time.time() // window_seconds)}"
    if cache.add(bucket, 1, timeout=window_seconds * 2):
        return True
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds * 2)
        return True
