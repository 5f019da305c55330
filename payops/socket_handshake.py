"""WebSocket handshakes refused for their Origin, without leaving anything running (issue 13.12).

Channels' ``AllowedHostsOriginValidator`` refuses a handshake through a consumer
(``WebsocketDenier``) that closes and then waits for the client's disconnect, subscribed to the
channel layer. A client that reads the 403 and keeps its TCP connection open never sends one,
so the consumer waits forever; uvicorn counts it as a running task and, on SIGTERM, waits for it
("Waiting for background tasks to complete") — the worker hangs and the lifespan shutdown never
runs. Here the refusal is a plain ASGI answer: close the handshake (the server answers 403) and
return, so nothing outlives it. Which origins are allowed is still Channels' rule.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator


class RefusingOriginValidator(OriginValidator):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and not self.valid_origin(_origin(scope)):
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 403})
            return
        await super().__call__(scope, receive, send)


def _origin(scope: dict[str, Any]) -> ParseResult | None:
    """The Origin header as OriginValidator reads it (the last one; None when absent)."""
    origin = None
    for name, value in scope.get("headers", []):
        if name == b"origin":
            origin = urlparse(value.decode("latin1"))  # latin-1 decodes any bytes
    return origin


def allowed_hosts_origin_refuser(application: Any) -> RefusingOriginValidator:
    """Channels' ``AllowedHostsOriginValidator`` (its reading of ALLOWED_HOSTS and DEBUG), refusing cleanly."""
    return RefusingOriginValidator(application, AllowedHostsOriginValidator(application).allowed_origins)
