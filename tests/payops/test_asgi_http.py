"""Django's HTTP under the ASGI server (ADR 0013, issue 24): one thread hop per request, the
whole middleware chain, request bodies however they arrive, a bounded number of threads.

Driven in-process through the ASGI interface, as uvicorn calls it; ``bench/http_floor.py``
measures the same path from outside.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref import sync

from payops.asgi import application
from payops.http import django_http_application
from tests.payops import asgi_urls


@dataclass
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def call(
    app: Any,
    path: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    chunks: int = 1,
    headers: list[tuple[bytes, bytes]] | None = None,
    host: bytes = b"127.0.0.1",
) -> Answer:
    """One HTTP request through ``app`` as an ASGI server makes it; the body in ``chunks`` messages."""
    size = max(1, -(-len(body) // chunks))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": part, "more_body": n < len(parts) - 1} for n, part in enumerate(parts)]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", host), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client keeps the connection open
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], {name.lower(): value for name, value in start["headers"]}, body_out)


@pytest.fixture
def adaptations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every sync↔async adaptation asgiref makes while the test runs."""
    seen: list[str] = []
    for cls in (sync.SyncToAsync, sync.AsyncToSync):
        original = cls.__call__

        def counting(self: Any, *args: Any, _original: Any = original, _name: str = cls.__name__, **kw: Any) -> Any:
            seen.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(cls, "__call__", counting)
    return seen


@pytest.fixture
def test_views(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.payops.asgi_urls"
    asgi_urls.simulator_reached.clear()


async def test_a_request_crosses_from_the_loop_to_django_without_asgiref_adaptations(adaptations: list[str]) -> None:
    # Django's ASGI handler made ~34 of these per request through payops's middleware (issue 24).
    answer = await call(application, "/livez")
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}
    assert adaptations == []


async def test_every_middleware_still_runs() -> None:
    answer = await call(application, "/livez")
    assert answer.headers[b"x-frame-options"] == b"DENY"  # XFrameOptionsMiddleware, last in the chain
    assert answer.headers[b"x-content-type-options"] == b"nosniff"  # SecurityMiddleware, first
    assert b"Accept-Language" in answer.headers[b"vary"]  # LocaleMiddleware


async def test_a_host_outside_allowed_hosts_is_refused_as_django_refuses_it(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["shop.example.jp"]
    refused = await call(application, "/livez", host=b"evil.example")
    allowed = await call(application, "/livez", host=b"shop.example.jp")
    assert (refused.status, allowed.status) == (400, 200)


@pytest.mark.usefixtures("test_views")
@pytest.mark.parametrize("chunks", [1, 7])
async def test_a_body_with_content_length_reaches_the_view_whole(chunks: int) -> None:
    body = bytes(range(256)) * 400  # 100 KiB in one message or in seven
    answer = await call(
        application,
        "/echo/",
        method="POST",
        body=body,
        chunks=chunks,
        headers=[(b"content-length", str(len(body)).encode())],
    )
    assert answer.status == 200
    assert answer.json()["length"] == len(body)
    assert answer.json()["sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.usefixtures("test_views")
async def test_a_chunked_body_without_content_length_reaches_the_view_whole() -> None:
    # WSGI reads CONTENT_LENGTH bytes: without the length a plain bridge hands Django nothing.
    body = b'{"lines": [' + b", ".join(b'{"sku": "TEA-%d", "quantity": 1}' % n for n in range(500)) + b"]}"
    answer = await call(
        application, "/echo/", method="POST", body=body, chunks=9, headers=[(b"transfer-encoding", b"chunked")]
    )
    assert answer.status == 200
    assert answer.json()["length"] == len(body)
    assert answer.json()["sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.usefixtures("test_views")
async def test_a_chunked_body_over_the_upload_limit_is_refused_with_413(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    answer = await call(
        application, "/echo/", method="POST", body=b"x" * 10_001, chunks=4, headers=[(b"transfer-encoding", b"chunked")]
    )
    assert answer.status == 413
    assert b"10000 bytes" in answer.body


@pytest.mark.usefixtures("test_views")
async def test_requests_run_on_at_most_payops_http_threads_threads(settings: Any) -> None:
    settings.PAYOPS_HTTP_THREADS = 3
    app = django_http_application()
    answers = await asyncio.gather(*(call(app, "/echo/", method="POST", body=b"x" * n) for n in range(40)))
    assert {a.status for a in answers} == {200}
    assert 1 <= len({a.json()["thread"] for a in answers}) <= 3


@pytest.mark.usefixtures("test_views")
async def test_the_simulator_answers_while_every_page_thread_waits_for_it(settings: Any) -> None:
    # A checkout holds its page thread while it calls the simulator on the same server: with one
    # shared pool, enough checkouts at once would leave no thread for the simulator's answer.
    settings.PAYMENT_SIMULATOR = True
    settings.PAYOPS_HTTP_THREADS = 2
    app = django_http_application()
    waiting = [asyncio.create_task(call(app, "/waits/")) for _ in range(2)]
    await asyncio.sleep(0.3)  # both page threads are now taken
    ping = await call(app, "/simulator/ping/")
    answers = await asyncio.gather(*waiting)
    assert ping.status == 200
    assert [a.status for a in answers] == [200, 200]
