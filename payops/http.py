"""Django's HTTP served to the ASGI server in one thread hop per request (ADR 0013).

Django's own ASGI handler adapts between the event loop and threads at every sync middleware
and view: ~34 ``asgiref`` adaptations and 2 thread starts per request, ~6 ms of CPU before the
view runs (issue 24). payops's middleware, views and ORM are synchronous, so instead the whole
request runs as WSGI — Django's ``WSGIHandler`` — on a bounded pool of threads, through
``a2wsgi``: one hop onto a pool thread and the answer streamed back to the loop. WebSockets
and the Stripe webhook edge stay on the event loop (``payops.asgi``).

Two things a plain WSGI bridge would get wrong here, handled below:

* A request body sent chunked (no Content-Length) reads as empty under WSGI; it is read on the
  loop first, refused with 413 past ``DATA_UPLOAD_MAX_MEMORY_SIZE``, and handed over with its
  length.
* The payment simulator is served by payops itself, and a checkout's view calls it over HTTP
  while holding a pool thread: with one pool, enough concurrent checkouts take every thread and
  the simulator's answers queue behind them until they time out. Simulator paths get a pool of
  their own (test mode only).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SIMULATOR_PREFIX = "/simulator/"
SIMULATOR_THREADS = 8


def django_http_application() -> ASGIApp:
    """Django as an ASGI HTTP application: ``PAYOPS_HTTP_THREADS`` pool threads, one hop each."""
    django = WSGIHandler()
    pages = with_content_length(_thread_pool_bridge(django, settings.PAYOPS_HTTP_THREADS))
    if not settings.PAYMENT_SIMULATOR:
        return pages
    simulator = with_content_length(_thread_pool_bridge(django, SIMULATOR_THREADS))

    async def http(scope: Scope, receive: Receive, send: Send) -> None:
        app = simulator if scope["path"].startswith(SIMULATOR_PREFIX) else pages
        await app(scope, receive, send)

    return http


_bridges: weakref.WeakSet[WSGIMiddleware] = weakref.WeakSet()


def _thread_pool_bridge(django: WSGIHandler, threads: int) -> ASGIApp:
    # a2wsgi's types are narrower than Django's (a response is an iterable of bytes): cast.
    bridge = WSGIMiddleware(cast(Any, django), workers=threads)
    _bridges.add(bridge)
    return cast(ASGIApp, bridge)


def _fresh_thread_pools() -> None:
    # A forked process (a test's live server, a pre-forking server) inherits the pool's bookkeeping
    # but not its threads: a pool used before the fork would hand work to threads that are gone.
    for bridge in _bridges:
        bridge.executor = ThreadPoolExecutor(thread_name_prefix="WSGI", max_workers=bridge.executor._max_workers)


os.register_at_fork(after_in_child=_fresh_thread_pools)


def with_content_length(app: ASGIApp) -> ASGIApp:
    """Requests without a Content-Length reach ``app`` with their body read and its length set."""

    async def http(scope: Scope, receive: Receive, send: Send) -> None:
        if any(name == b"content-length" for name, _ in scope["headers"]):
            await app(scope, receive, send)
            return
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before its body arrived: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = [*scope["headers"], (b"content-length", str(len(body)).encode())]
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: the disconnect, when it comes
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, replay, send)

    return http


async def _too_large(send: Send, limit: int) -> None:
    body = f"Request body larger than {limit} bytes.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
