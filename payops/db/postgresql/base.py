"""Django's PostgreSQL backend with a pool that recovers from a failover at the first dead connection.

After the database restarts or fails over, every idle connection in the pool is dead. psycopg_pool
checks the connection it is about to hand out, and after each one that fails it waits 1, 2, 4 s
before taking the next, so a pool holding four or more dead connections runs out its timeout and
the request answers 503 (issue 13.7, found by tests/chaos). Django builds the pool with
`check=ConnectionPool.check_connection` and accepts no other check through OPTIONS, hence this
backend: the same pool, whose check, on the first failure, has the pool check all its idle
connections at once (dead ones are discarded and replaced in the background), so the retry after
the pool's first short wait gets a live connection.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def check_connection_or_sweep_pool(connection: Any) -> None:
    """psycopg's check; when it fails, every idle connection of the same pool is checked too."""
    try:
        ConnectionPool.check_connection(connection)
    except Exception:
        pool = getattr(connection, "_pool", None)
        if isinstance(pool, ConnectionPool):
            # ConnectionPool.check() uses the plain check_connection, never this function: no recursion.
            pool.check()
        raise


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's own pool registry and connection set-up; django-stubs does not declare them.
    _connection_pools: dict[str, ConnectionPool]
    _configure_connection: Any

    @property
    def pool(self) -> ConnectionPool | None:
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options or not self.settings_dict["CONN_HEALTH_CHECKS"]:
            return super().pool
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's own pool: Django sets it per connection later
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_connection_or_sweep_pool,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
