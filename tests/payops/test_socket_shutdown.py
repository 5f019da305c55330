"""Issue 13.12: a web worker that refused a WebSocket handshake for its Origin still shuts down
promptly on SIGTERM, and runs the lifespan shutdown. A real uvicorn process, a real socket."""

from __future__ import annotations

import signal
import socket
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.processes import PYTHON, PrivateRedis, Service, free_port, python_env, wait_for


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(redis_server, tmp_path):
    port = free_port()
    service = Service(
        "web",
        [PYTHON, "-m", "uvicorn", "payops.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        # The channel layer on Redis, as in production; only this host is allowed.
        env=python_env(REDIS_URL=redis_server.url, DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_DEBUG="false"),
        workdir=tmp_path,
    )
    service.start()
    wait_for(lambda: "Application startup complete" in service.log() or not service.alive(), timeout=60, what="uvicorn")
    assert service.alive(), service.log()
    service.port = port  # type: ignore[attr-defined]
    yield service
    service.stop(timeout=5)


def test_sigterm_after_a_refused_handshake_exits_promptly_through_the_lifespan(web):
    url = f"ws://127.0.0.1:{web.port}/ws/merchant/"
    for _ in range(3):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin="https://evil.example", open_timeout=10).close()
        assert refused.value.response.status_code == 403
    # A client that reads the refusal and keeps its connection open (as browsers and attackers may).
    lingering = []
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        sock.sendall(
            b"GET /ws/merchant/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Origin: https://evil.example\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 403")
        lingering.append(sock)

    web.signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        web.process.wait(timeout=10)
    except Exception:
        pytest.fail(f"uvicorn still running 10 s after SIGTERM:\n{web.log()[-3000:]}")
    assert time.monotonic() - started < 5, web.log()[-3000:]
    assert "Application shutdown complete" in web.log(), web.log()[-3000:]
