"""Real-browser tests: Debian's chromium driven by Playwright against payops served by a real
ASGI server (Daphne) in its own process. With REDIS_URL set (CI), the server uses the Redis
channel layer and webhooks are processed by a real Celery worker in this process; without it,
the server processes them in-process (embedded profile). See docs/testing.md, "Real parts"."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from asgiref.sync import SyncToAsync
from daphne.testing import DaphneProcess
from django.conf import settings
from playwright.sync_api import expect

CHROMIUM = shutil.which("chromium")
# Screenshots for docs/ are taken on request (PAYOPS_SAVE_SCREENSHOTS=1); an ordinary run
# writes them under var/ so running the suite never changes the committed ones.
SCREENSHOTS = Path(settings.BASE_DIR) / (
    "docs/screenshots" if os.environ.get("PAYOPS_SAVE_SCREENSHOTS") else "var/screenshots"
)
T = TypeVar("T")

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(pytest.mark.skip(reason="needs Debian's chromium (./dev test installs it as root)"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_application() -> Any:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from payops.asgi import application

    return ASGIStaticFilesHandler(application)


_INHERITED_POOLS: list[object] = []


def _forget_inherited_connection_pools() -> None:
    """A PostgreSQL pool made in the parent holds the parent's sessions: the child must open its
    own. The old pools are kept referenced, never closed: closing would end the parent's sessions."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    _INHERITED_POOLS.append(dict(DatabaseWrapper._connection_pools))
    DatabaseWrapper._connection_pools.clear()


class PayopsServerProcess(DaphneProcess):
    def run(self) -> None:
        # The fork inherits asgiref's one-thread executor from the parent; if the parent used it,
        # its thread is gone here and every database call from a consumer would hang.
        SyncToAsync.single_thread_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        _forget_inherited_connection_pools()
        # Likewise the channel layer: one the parent has used carries its receive state and
        # event-loop-bound connections into the fork, and the child's consumers then hear nothing.
        from channels.layers import channel_layers

        channel_layers.backends.clear()
        super().run()


class LiveServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: PayopsServerProcess | None = None

    def start(self) -> None:
        # The fork inherits settings that already name the test database (Django switched them when
        # it created it), so the server needs no database setup of its own.
        self.process = PayopsServerProcess("127.0.0.1", _make_application, port=self.port)
        self.process.start()
        if not self.process.ready.wait(timeout=30):
            raise RuntimeError("the live server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def real_worker() -> Iterator[bool]:
    """A real Celery worker on Redis when REDIS_URL is set; otherwise tasks run in the server.

    One for the whole run: Celery's test worker does not start cleanly a second time in one
    process (the second one consumes nothing)."""
    from payops.celery import app

    if not settings.REDIS_URL:
        yield False
        return
    from celery.contrib.testing.worker import start_worker

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default", "payments", "webhooks"]):
            yield True
    finally:
        app.conf.task_always_eager = True


@pytest.fixture(scope="module")
def payops_server(real_worker: bool, django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    port = _free_port()
    server = LiveServer(port)
    # Settings the forked server inherits: it serves the simulator and receives its webhooks.
    saved = (settings.PAYOPS_BASE_URL, settings.STRIPE_API_BASE, settings.ALLOWED_HOSTS)
    settings.PAYOPS_BASE_URL = server.url
    settings.STRIPE_API_BASE = f"{server.url}/simulator/stripe"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    with django_db_blocker.unblock():
        server.start()
        yield server
        server.stop()
    settings.PAYOPS_BASE_URL, settings.STRIPE_API_BASE, settings.ALLOWED_HOSTS = saved


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls
    # here unless told that this thread is fine (docs/testing.md, "Real parts").
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                ],
            )
            yield chromium
            chromium.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: Any, payops_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 1100}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(20_000)
    # These machines are small and noisy; a generous wait costs nothing when things are fast.
    expect.set_options(timeout=20_000)
    yield page
    context.close()


def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM work (and its on-commit broadcasts) off Playwright's thread (pitfall 4)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
