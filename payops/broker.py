"""Celery's Redis transport, made to survive its Redis going away (issue 13.5, ADR 0014).

When Redis goes away under a worker holding unacknowledged messages (``acks_late``), kombu
closes the broken connection, which detaches the transport from its client; a channel closed
after that (Celery's bootsteps close theirs with ``ignore_errors``) tries to restore its
unacknowledged messages through a new connection pool, whose parameters are read from the
detached client: ``AttributeError: 'NoneType' object has no attribute 'hostname'``. Celery
ignores connection errors there but not an AttributeError, so the worker died.

Here a channel whose transport is detached raises a *connection* error instead, which every
caller already handles (the worker reconnects), and a restore that cannot reach Redis leaves the
messages where delivery put them: in the unacknowledged index in Redis, from which any worker
restores them once the visibility timeout has passed. Nothing is lost by not restoring now.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu import transport as kombu_transports
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    def restore_unacked(self, client: Any = None) -> None:
        try:
            super().restore_unacked(client)
        except RedisConnectionError as exc:
            delivered = self._delivered if self._delivered is not None else {}
            logger.warning(
                "Redis is unreachable (%s): %d unacknowledged message(s) stay in its unacked index and are "
                "restored after the visibility timeout",
                exc,
                len(delivered),
            )
            delivered.clear()


class Channel(kombu_redis.Channel):
    QoS = QoS

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # private: not in the stubs


class Transport(kombu_redis.Transport):
    Channel = Channel


def use_payops_redis_transport() -> None:
    """Make ``redis://`` broker URLs use this transport (Celery resolves the scheme by alias)."""
    kombu_transports.TRANSPORT_ALIASES["redis"] = f"{__name__}:Transport"
    kombu_transports.TRANSPORT_ALIASES["rediss"] = f"{__name__}:Transport"
