"""A production-like payops for the chaos suite, made of real processes on this machine:

* a PostgreSQL database of its own (created, migrated, dropped at the end);
* a redis-server of its own (tests/processes.py), which the suite stops and starts;
* uvicorn serving ``payops.asgi`` with ``PAYOPS_PRODUCTION=true`` (connection pool, Redis cache
  and channel layer, throttling), two prefork Celery workers and Celery beat (the sweeps);
* Stripe: the stateful fake of tests/chaos/stripe_truth.py.

The suite plays the supervisor (systemd's ``Restart=always``, deploy/systemd/): it starts again
what it killed, and records any process that died without being killed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.chaos.load import WEBHOOK_SECRET
from tests.processes import PYTHON, REPO, PrivateRedis, Service, free_port, python_env, wait_for

WORKERS = ("worker-a", "worker-b")
# The sweep runs every WEBHOOK_SWEEP_SECONDS and takes rows received longer ago than the settle
# time: short here, so rows whose task was lost (Redis restarted empty) are found within seconds.
SWEEP_SECONDS = 2
SWEEP_SETTLE_SECONDS = 3


@dataclass
class Database:
    """A PostgreSQL database of the suite's own, beside the test database."""

    params: dict[str, Any]
    name: str

    @classmethod
    def beside(cls, settings_dict: dict[str, Any]) -> Database:
        base = str(settings_dict["NAME"]).removeprefix("test_")
        params = {
            "host": settings_dict.get("HOST") or "127.0.0.1",
            "port": int(settings_dict.get("PORT") or 5432),
            "user": settings_dict.get("USER") or "postgres",
            "password": settings_dict.get("PASSWORD") or "",
        }
        return cls(params=params, name=f"test_{base}_chaos")

    @property
    def url(self) -> str:
        p = self.params
        auth = urllib.parse.quote(p["user"]) + (":" + urllib.parse.quote(p["password"]) if p["password"] else "")
        return f"postgres://{auth}@{p['host']}:{p['port']}/{self.name}"

    def _connect(self, dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(dbname=dbname, autocommit=True, connect_timeout=10, **self.params)

    def create(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._connect(self.name) as conn:
            return conn.execute(query, args).fetchall()

    @contextlib.contextmanager
    def order_locked(self, number: str) -> Iterator[None]:
        """Hold an order's row lock (as a slow transaction would) until the block ends."""
        with self._connect(self.name) as conn, conn.transaction():
            conn.execute("SELECT 1 FROM orders_order WHERE number = %s FOR UPDATE", (number,))
            yield

    def lock_waiters(self) -> int:
        """Connections to this database waiting for a lock right now."""
        (count,) = self.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )[0]
        return int(count)

    def terminate_backends(self) -> int:
        """pg_terminate_backend for every other connection to this database (and no other)."""
        with self._connect(self.name) as conn:
            (count,) = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()  # type: ignore[misc]
        return int(count)


@dataclass
class Stack:
    workdir: Path
    database: Database
    redis: PrivateRedis
    stripe_url: str
    port: int = field(default_factory=free_port)
    services: dict[str, Service] = field(default_factory=dict)
    # Processes that died without the suite killing them: (name, exit code, log tail).
    crashes: list[tuple[str, int | None, str]] = field(default_factory=list)
    # How many times each service was started: its log holds one ready line per start.
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return python_env(
            PAYOPS_PRODUCTION="true",
            DJANGO_SECRET_KEY="chaos-suite-not-a-secret-" + "x" * 40,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_DEBUG="false",
            PAYOPS_BASE_URL=self.base_url,
            DATABASE_URL=self.database.url,
            REDIS_URL=self.redis.url,
            PAYMENT_SIMULATOR="false",
            PAYOPS_SECRETS_BACKEND="env",
            STRIPE_SECRET_KEY="sk_test_chaos_suite",
            STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
            STRIPE_API_BASE=self.stripe_url,
            PAYOPS_AWS="off",
            PAYOPS_MAIL_FROM="chaos <chaos@payops.example>",
            # The fulfilment workflow has its own recovery tests; here paid orders stay paid.
            PAYOPS_FULFILMENT_WORKFLOW="false",
            WEBHOOK_SWEEP_SECONDS=str(SWEEP_SECONDS),
            WEBHOOK_SWEEP_SETTLE_SECONDS=str(SWEEP_SETTLE_SECONDS),
            # The limiter stays on (its counters live in Redis), above the suite's own rate.
            PAYOPS_API_THROTTLE_CHECKOUT="100000/min",
            PAYOPS_API_THROTTLE_ORDER_STATUS="100000/min",
            PAYOPS_API_THROTTLE_CATALOGUE="100000/min",
            PAYOPS_API_THROTTLE_TOKEN="100000/min",
            LOG_LEVEL="INFO",
        )

    # --- start and stop -----------------------------------------------------------------------

    def prepare_database(self) -> None:
        self.database.create()
        env = self.env()
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO, check=True)
        seed = "from tests.chaos.seed import seed; seed()"
        subprocess.run([PYTHON, "manage.py", "shell", "--no-imports", "-c", seed], env=env, cwd=REPO, check=True)

    def start(self) -> None:
        env = self.env()
        self.services["web"] = Service(
            "web",
            [
                *(PYTHON, "-m", "uvicorn", "payops.asgi:application", "--no-access-log"),
                *("--host", "127.0.0.1", "--port", str(self.port)),
            ],
            env=env,
            workdir=self.workdir,
        )
        for name in WORKERS:
            self.services[name] = Service(
                name,
                [
                    *(PYTHON, "-m", "celery", "-A", "payops", "worker", "-n", f"{name}@chaos"),
                    *("-Q", "webhooks,payments,default", "-c", "2", "--without-mingle", "--without-gossip"),
                    *("-l", "INFO"),
                ],
                env=env,
                workdir=self.workdir,
                own_group=True,
            )
        self.services["beat"] = Service(
            "beat",
            [
                *(PYTHON, "-m", "celery", "-A", "payops", "beat", "-l", "INFO"),
                *("-s", str(self.workdir / "beat-schedule"), "--pidfile", str(self.workdir / "beat.pid")),
            ],
            env=env,
            workdir=self.workdir,
        )
        for service in self.services.values():
            self.starts[service.name] = 1
            service.start()
        self.wait_ready("web", *WORKERS, "beat")

    def wait_ready(self, *names: str) -> None:
        for name in names:
            service = self.services[name]
            marker = {"web": "Application startup complete", "beat": "beat: Starting"}.get(name, "ready.")
            wait_for(
                lambda s=service, m=marker: s.log().count(m) >= self.starts[s.name] or not s.alive(),
                timeout=90,
                what=f"{name} to start",
            )
            assert service.alive(), service.log()[-4000:]

    def stop(self) -> None:
        for name in ("web", "beat", *WORKERS):
            service = self.services.get(name)
            if service is None:
                continue
            if name in WORKERS and service.alive():
                service.signal(signal.SIGQUIT)  # no warm shutdown waiting on a broker that may be gone
            service.stop(timeout=10)

    # --- faults -------------------------------------------------------------------------------

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker and its pool (the machine or container lost), then start it again."""
        self.services[name].kill_group(signal.SIGKILL)
        self.restart(name)

    def kill_pool_processes(self, name: str) -> int:
        """SIGKILL the pool processes of a worker (the kernel's OOM killer); the worker replaces them."""
        children = self.services[name].children()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(children)

    def restart(self, name: str) -> None:
        self.starts[name] += 1
        self.services[name].start()
        self.wait_ready(name)

    def supervise(self) -> None:
        """Start again what died on its own (as systemd would), and remember that it did."""
        for name, service in self.services.items():
            if not service.alive():
                code = service.process.returncode if service.process else None
                self.crashes.append((name, code, service.log()[-3000:]))
                self.restart(name)

    def redis_reconnects(self, name: str) -> int:
        return len(re.findall(r"Connected to redis", self.services[name].log()))

    def logs(self) -> dict[str, str]:
        return {name: service.log() for name, service in self.services.items()}


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.2) -> bool:
    """Like ``wait_for``, but answers False at the deadline instead of failing the run."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
