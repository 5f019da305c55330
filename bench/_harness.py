"""Shared machinery of payops's benchmarks: a database to run on, real server and worker
processes, a bounded load generator, and the table every benchmark prints.

Benchmarks are scripts, not tests: they start payops the way it runs in production (separate
ASGI and Celery processes talking to PostgreSQL and Redis over loopback) and measure it from
outside. The machine is small and shared, so every figure is printed beside a baseline measured
in the same run, and the CPU each party used is printed so a reader can tell what limited it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: uvicorn and celery live beside python

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"
DEFAULT_BENCH_DATABASE = "payops_bench"


class HarnessError(Exception):
    """The benchmark could not run (a process did not start, a service is missing).

    Distinct from a missed target: that is a result and is printed, this ends the run non-zero.
    """


# --- the database --------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    vendor: str  # "postgresql" or "sqlite"
    note: str  # how it was chosen, printed in the report

    @property
    def is_postgres(self) -> bool:
        return self.vendor == "postgresql"


def prepare_database(name: str = DEFAULT_BENCH_DATABASE) -> Database:
    """``DATABASE_URL`` if set; else a freshly reset ``name`` on the local PostgreSQL; else SQLite.

    A given ``DATABASE_URL`` is used as it is (migrated, never dropped): benchmarks tag their
    rows with a run id, so earlier data does not disturb them.
    """
    given = os.environ.get("DATABASE_URL", "")
    if given:
        vendor = "sqlite" if given.startswith("sqlite") else "postgresql"
        return Database(given, vendor, "DATABASE_URL from the environment")
    try:
        _reset_postgres_database(name)
    except Exception as exc:  # psycopg missing, server down, no permission: all mean "no PostgreSQL"
        path = ROOT / "var" / f"{name}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()
        note = f"FALLBACK TO SQLITE: local PostgreSQL not reachable ({type(exc).__name__}: {exc})".strip()
        return Database(f"sqlite:///{path}", "sqlite", note)
    return Database(f"{LOCAL_POSTGRES}/{name}", "postgresql", f"database {name!r} reset on the local PostgreSQL")


def _reset_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{LOCAL_POSTGRES}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def libpq_url(database_url: str) -> str:
    """django-environ accepts ``postgres://``; psycopg wants a libpq URL, which is the same."""
    return database_url.replace("postgres://", "postgresql://", 1)


def postgres_version(db: Database) -> str:
    if not db.is_postgres:
        return "-"
    import psycopg

    with psycopg.connect(libpq_url(db.url), connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def server_env(db: Database, **overrides: str) -> dict[str, str]:
    """The environment every payops process of a run shares.

    DEBUG is off because with it Django keeps every SQL query in memory and renders debug
    pages: a benchmark must measure what production runs.
    """
    env = dict(os.environ)
    env.update(DATABASE_URL=db.url, DJANGO_DEBUG="false", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    # Pooled connections, as production runs (payops.settings turns the pool on in production).
    env.setdefault("DATABASE_POOL", "true")
    # A settings module of one's own (to try a change without editing payops) is passed on.
    env.setdefault("DJANGO_SETTINGS_MODULE", "payops.settings")
    # AWS off: outbox and mail rows wait instead of going to whatever embedded moto server a
    # developer's `./dev up` left in var/ (the outbox has its own benchmark).
    env.setdefault("PAYOPS_AWS", "off")
    env.update(overrides)
    return env


def reset_redis_database(url: str) -> None:
    """Empty a Redis database the benchmark owns (tasks of an earlier run would mix with
    this run's); HarnessError when Redis is not there."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        raise HarnessError(f"Redis at {url} is not reachable: {exc}") from exc


def migrate(env: Mapping[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise HarnessError(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}")


def setup_django(env: Mapping[str, str]) -> None:
    """Use the ORM in the bench process itself (seeding, counting) on the server's database."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_id() -> str:
    """Tags this run's rows (emails, event ids) so they never collide with an earlier run's."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")


# --- processes -----------------------------------------------------------------------------


class Processes:
    """Every process a benchmark starts, each in its own process group, all stopped on exit.

    A process group lets one signal reach uvicorn's worker children and anything they spawn.
    Use as a context manager; SIGTERM/SIGINT to the bench itself unwinds through it too.
    """

    def __init__(self, name: str) -> None:
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"payops-{name}-"))
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def __enter__(self) -> Processes:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_keyboard_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        try:
            process = subprocess.Popen(
                list(argv), cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()  # the child holds its own descriptor
        self._running.append((name, process))
        return process

    def stop(self, process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
        _stop_group(process, grace=grace)
        self._running = [(n, p) for n, p in self._running if p is not process]

    def stop_all(self) -> None:
        while self._running:
            _, process = self._running.pop()
            _stop_group(process, grace=10.0)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def exceptions(self, name: str, *, limit: int = 3) -> list[tuple[str, int]]:
        """The commonest exception lines in a process's log: why it answered 5xx."""
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return []
        lines = path.read_text(errors="replace").splitlines()
        found = Counter(line[:200] for line in lines if _EXCEPTION_LINE.match(line))
        return found.most_common(limit)


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_group(process: subprocess.Popen[bytes], *, grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; its children may linger a moment: make sure of them too.
        if not _group_alive(process.pid):
            break
    process.poll()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workers: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(
    processes: Processes,
    env: Mapping[str, str],
    *,
    port: int,
    workers: int,
    app: str = "payops.asgi:application",
    interface: str = "auto",
    name: str = "uvicorn",
) -> Server:
    """payops as production runs it: uvicorn serving ``payops.asgi``, access log off (it would
    cost every request a log line the benchmark does not want to measure). ``app`` and
    ``interface`` let a benchmark serve a baseline (the WSGI application, say) the same way."""
    argv = [
        which("uvicorn"),
        app,
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = processes.start(name, argv, env)
    server = Server(process, port, workers)
    _wait_until_healthy(processes, server, timeout=90, name=name)
    watch_cpu("server" if name == "uvicorn" else name, process)
    return server


def _wait_until_healthy(processes: Processes, server: Server, *, timeout: float, name: str = "uvicorn") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise HarnessError(f"uvicorn exited with {server.process.returncode}:\n{processes.log_tail(name)}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise HarnessError(f"uvicorn not healthy after {timeout:.0f} s:\n{processes.log_tail(name)}")


def http_status(url: str, *, method: str = "GET", body: bytes | None = None, headers: Mapping[str, str] = {}) -> int:
    """One blocking request for a precondition check; the status, also for 4xx/5xx."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


# --- a small HTTP/1.1 client ----------------------------------------------------------------


class HttpConnection:
    """A keep-alive HTTP/1.1 connection on asyncio streams.

    Hand-rolled because the load generator shares two cores with the server it measures: a
    full client library spends several times the CPU per request, which would come out of the
    server's share and make the baseline look slower than it is.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: Mapping[str, str] = {}
    ) -> tuple[int, bytes]:
        reused = self._writer is not None
        if not reused:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        try:
            return await self._exchange(method, path, body, headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            if not reused:
                raise
        # The server closed the connection while it sat idle between requests (keep-alive
        # timeout): one try on a fresh connection, as browsers do. Never for a fresh one, so a
        # POST is not sent twice when the server fails while handling it.
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(method, path, body, headers)

    async def _exchange(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        response_headers = {}
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._read_chunked()
        else:
            content = await self._reader.readexactly(int(response_headers.get("content-length", "0")))
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)
        await self._reader.readuntil(b"\r\n")  # no trailers are expected
        return b"".join(parts)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


class ConnectionPool:
    """One connection per concurrent client: a client's requests reuse its connection."""

    def __init__(self, base_url: str) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self._idle: list[HttpConnection] = []

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: Mapping[str, str] = {}
    ) -> tuple[int, bytes]:
        connection = self._idle.pop() if self._idle else HttpConnection(self.host, self.port)
        try:
            result = await connection.request(method, path, body=body, headers=headers)
        except BaseException:
            await connection.close()
            raise
        self._idle.append(connection)
        return result

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def unexpected_status(status: int, body: bytes, expected: int) -> str | None:
    """The error label for a response (None when it is the expected one)."""
    if status == expected:
        return None
    # Numbers vary between otherwise equal errors ("retry in 56 s", ids): mask them so the
    # error summary groups by kind.
    text = re.sub(r"<[^>]*>", " ", body[:400].decode("utf-8", "replace"))  # an HTML error page's text
    text = re.sub(r"\d+", "#", " ".join(text.split()))
    return f"HTTP {status}: {text[:160]}"


# --- load generation -----------------------------------------------------------------------

# One unit of load: do request number ``i``; return None on success, else a short error label.
Operation = Callable[[int], Awaitable[str | None]]


@dataclass
class LoadResult:
    label: str
    concurrency: int
    attempted: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, successful operations only
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu: CpuUsage | None = None

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in seconds (NaN when nothing succeeded)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def record(self, started: float, outcome: str | None) -> None:
        if outcome is None:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.errors[outcome] += 1


def merge_results(label: str, rounds: Sequence[LoadResult]) -> LoadResult:
    """Several rounds of one phase as one result (CPU weighted by each round's length)."""
    merged = LoadResult(label, rounds[0].concurrency)
    for result in rounds:
        merged.attempted += result.attempted
        merged.latencies += result.latencies
        merged.errors.update(result.errors)
        merged.elapsed += result.elapsed
    measured = [r for r in rounds if r.cpu is not None]
    if measured and merged.elapsed:
        weight = {id(r): r.elapsed / merged.elapsed for r in measured}
        names = {name for r in measured for name in r.cpu.parts}  # type: ignore[union-attr]
        merged.cpu = CpuUsage(
            machine=sum(r.cpu.machine * weight[id(r)] for r in measured),  # type: ignore[union-attr]
            parts={n: sum(r.cpu.parts.get(n, 0.0) * weight[id(r)] for r in measured) for n in sorted(names)},  # type: ignore[union-attr]
        )
    return merged


async def closed_loop(
    label: str, operation: Operation, *, total: int, concurrency: int, time_limit: float
) -> LoadResult:
    """``concurrency`` clients, each sending its next request when the previous one is answered,
    until ``total`` were sent or ``time_limit`` seconds passed: the throughput the server can sustain."""
    result = LoadResult(label, concurrency)
    deadline = time.monotonic() + time_limit
    next_index = iter(range(total))

    async def client() -> None:
        for i in next_index:  # shared iterator: each index is taken by exactly one client
            if time.monotonic() > deadline:
                return
            result.attempted += 1
            started = time.perf_counter()
            result.record(started, await _guarded(operation, i))

    with CpuMeter() as meter:
        await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed, result.cpu = meter.wall, meter.usage
    return result


async def fixed_rate(
    label: str, operation: Operation, *, rate: float, duration: float, max_in_flight: int
) -> LoadResult:
    """Requests started on a fixed schedule whatever the server does: the latency a sender
    like Stripe sees at that rate. Latency counts from the *scheduled* start, so a server that
    falls behind is charged for the queueing it causes (no coordinated omission)."""
    total = int(rate * duration)
    result = LoadResult(label, max_in_flight)
    slots = asyncio.Semaphore(max_in_flight)

    async def one(i: int, scheduled: float) -> None:
        async with slots:
            result.record(scheduled, await _guarded(operation, i))

    with CpuMeter() as meter:
        start = time.perf_counter()
        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            result.attempted += 1
            tasks.append(asyncio.create_task(one(i, scheduled)))
        # Bounded: whatever is still unanswered a minute after the schedule ended is an error.
        _, late = await asyncio.wait(tasks, timeout=60)
        for task in late:
            task.cancel()
        if late:
            result.errors["not answered within 60 s of the schedule's end"] += len(late)
    result.elapsed, result.cpu = meter.wall, meter.usage
    return result


async def _guarded(operation: Operation, i: int) -> str | None:
    try:
        return await asyncio.wait_for(operation(i), timeout=30)
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        return f"{type(exc).__name__}: {exc}"[:160]


# --- CPU accounting ------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUsage:
    """Cores busy on average during a phase, split by who used them.

    On a shared two-core machine this tells a limit of payops from a busy neighbour: what
    the machine used beyond payops's processes, PostgreSQL and the load generator is "other".
    """

    machine: float
    parts: dict[str, float]

    def describe(self) -> str:
        other = self.machine - sum(self.parts.values())
        shares = [*self.parts.items(), ("other processes and kernel", max(other, 0.0))]
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in shares)
        return f"{self.machine:.2f} of {os.cpu_count()} cores busy: {parts}"


# Process groups whose CPU every measured phase reports, by name ("server", "workers").
_watched_groups: dict[str, int] = {}


def watch_cpu(name: str, process: subprocess.Popen[bytes]) -> None:
    _watched_groups[name] = process.pid


def unwatch_cpu(name: str) -> None:
    _watched_groups.pop(name, None)


class CpuMeter:
    """``with CpuMeter() as meter: ...`` then ``meter.usage`` and ``meter.wall`` (seconds)."""

    def __enter__(self) -> CpuMeter:
        self._before = self._sample()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._started
        after = self._sample()
        cores = {name: (after[name] - self._before.get(name, 0.0)) / (self.wall or 1e-9) for name in after}
        machine = cores.pop("machine")
        self.usage = CpuUsage(machine=machine, parts=cores)

    @staticmethod
    def _sample() -> dict[str, float]:
        sample = {name: _group_cpu_seconds(pgid) for name, pgid in _watched_groups.items()}
        sample["postgres"] = _postgres_cpu_seconds()
        sample["load generator"] = time.process_time()
        sample["machine"] = _machine_busy_seconds()
        return sample


def _proc_stats() -> Iterator[tuple[str, list[str]]]:
    """(command name, the fields after it) of every process in /proc/<pid>/stat."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition("(")[2].rpartition(")")
        yield name, rest.split()


def _group_alive(pgid: int) -> bool:
    return any(int(fields[2]) == pgid and fields[0] != "Z" for _, fields in _proc_stats())


def _group_cpu_seconds(pgid: int) -> float:
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in _proc_stats() if int(fields[2]) == pgid)
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    # cutime/cstime too: backends live for one connection, and once the postmaster has reaped
    # one, its CPU survives only in the postmaster's children counters.
    ticks = sum(sum(int(value) for value in fields[11:15]) for name, fields in _proc_stats() if name == "postgres")
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- reporting -----------------------------------------------------------------------------


def machine_summary() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} cores ({model}), {memory_kb / 1024 / 1024:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "-"


def load_row(result: LoadResult) -> list[str]:
    return [
        result.label,
        str(result.concurrency),
        f"{result.ok}/{result.attempted}",
        str(sum(result.errors.values())),
        f"{result.per_second:.1f}",
        ms(result.percentile(50)),
        ms(result.percentile(95)),
        ms(result.percentile(99)),
    ]


LOAD_HEADER = ["phase", "conc.", "ok/sent", "errors", "per s", "p50 ms", "p95 ms", "p99 ms"]


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table, so the output can be pasted into docs/benchmarks.md as it is."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print(line(row))


def print_errors(result: LoadResult, *, limit: int = 5) -> None:
    for label, count in result.errors.most_common(limit):
        print(f"  {result.label}: {count} x {label}")


def print_log_exceptions(processes: Processes, name: str) -> None:
    for line, count in processes.exceptions(name):
        print(f"  {name} log: {count} x {line}")


def print_cpu(results: Sequence[LoadResult]) -> None:
    print("CPU during each phase (average cores busy):")
    for result in results:
        if result.cpu is not None:
            print(f"  {result.label}: {result.cpu.describe()}")


def print_header(title: str, db: Database, extra: Mapping[str, Any]) -> None:
    print(f"# {title}")
    print(f"date     {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine  {machine_summary()}")
    print(f"database {db.vendor}: {db.note}" + (f" ({postgres_version(db)})" if db.is_postgres else ""))
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "payops.settings")
    if settings_module != "payops.settings":
        print(f"settings {settings_module} (not payops's own)")
    for name, value in extra.items():
        print(f"{name:<8} {value}")
    print(f"command  {command_line()}")
    print(flush=True)


def command_line() -> str:
    python = Path(sys.executable)
    shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    return " ".join([str(shown), *sys.argv])


def dump_json(path: str | None, data: Mapping[str, Any]) -> None:
    """Optional machine-readable results (``--json FILE``) for comparing runs."""
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")


def summary(result: LoadResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "attempted": result.attempted,
        "errors": dict(result.errors),
        "per_second": round(result.per_second, 2),
        "p50_ms": round(result.percentile(50) * 1000, 2) if result.ok else None,
        "p95_ms": round(result.percentile(95) * 1000, 2) if result.ok else None,
        "p99_ms": round(result.percentile(99) * 1000, 2) if result.ok else None,
        "cpu": {"machine": result.cpu.machine, **result.cpu.parts} if result.cpu else None,
    }


def which(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise HarnessError(f"{name} not found beside {sys.executable} nor on PATH")
    return found
