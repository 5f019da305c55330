"""``POST /webhooks/stripe/`` on the event loop, in front of Django (ADR 0012).

Acknowledging a webhook needs the raw body, one signature check and one durable insert. Through
Django's request machinery (middleware, sessions, locale, a thread per request) that costs
several times the insert itself, so the ASGI application answers this one path here, with the
same receive service as the Django view (``webhooks.views.stripe_webhook``, which serves the
test client and WSGI) and a group-committing inbox writer. Every other path goes to Django.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from payops.aws.secrets import cached_secrets
from payops.stripe.gateway import is_live_key
from webhooks.services.inbox_writer import GroupCommitInboxWriter, InboxWriter, OrmInboxWriter
from webhooks.services.receive import InboxRecord, SignatureRejected, WebhookRejected, stripe_inbox_record

logger = logging.getLogger("webhooks.views")  # the same logger as the Django view's refusals

Scope = dict[str, Any]
Receive = Any
Send = Any


def default_inbox_writer() -> InboxWriter:
    if settings.WEBHOOK_GROUP_COMMIT:
        return GroupCommitInboxWriter.from_django_settings(
            connections=settings.WEBHOOK_INGEST_CONNECTIONS,
            max_batch=settings.WEBHOOK_INGEST_MAX_BATCH,
            timeout=settings.WEBHOOK_INGEST_DB_TIMEOUT_SECONDS,
        )
    return OrmInboxWriter()


class StripeWebhookEndpoint:
    """Verify, store, acknowledge — the Django view's contract, answers included."""

    def __init__(self, writer: InboxWriter | None = None) -> None:
        self._writer = writer

    @property
    def writer(self) -> InboxWriter:
        if self._writer is None:  # made on first use: inside the server's event loop
            self._writer = default_inbox_writer()
        return self._writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, {"error": "method not allowed"}, extra_headers=[(b"allow", b"POST")])
            return
        headers = dict(scope["headers"])
        if not _host_allowed(headers.get(b"host") or str((scope.get("server") or ("",))[0]).encode()):
            await respond(send, 400, {"error": "host not allowed"})
            return
        try:
            body = await read_body(receive, headers, limit=settings.WEBHOOK_MAX_BODY_BYTES)
            if body is None:
                return  # the sender hung up
            record = await check_delivery(body, headers.get(b"stripe-signature", b"").decode("latin-1"))
        except WebhookRejected as exc:
            # The reason and the sender, never the body: it carries shoppers' personal data.
            client = (scope.get("client") or ("?",))[0]
            logger.warning("webhook refused on %s from %s: %s", scope["path"], client, exc)
            await respond(send, 400, {"error": str(exc)})
            return
        try:
            receipt = await self.writer.store(record)
        except Exception:
            logger.exception("could not store webhook %s; the sender will deliver it again", record.event_id)
            await respond(
                send,
                503,
                {"error": "the inbox cannot store events right now; deliver again later"},
                extra_headers=[(b"retry-after", b"5")],
            )
            return
        await respond(send, 200, receipt.acknowledgement())

    async def aclose(self) -> None:
        if self._writer is not None:
            await self._writer.aclose()


async def check_delivery(body: bytes, signature_header: str) -> InboxRecord:
    """``stripe_inbox_record`` on the loop when the secrets are in memory; in a thread when the
    secrets store must be read (at start, after the TTL, or for a possibly rotated secret)."""
    cached = cached_secrets()
    if cached is not None:
        try:
            return stripe_inbox_record(
                body=body,
                signature_header=signature_header,
                secrets=[secret.reveal() for secret in cached.stripe_webhook_secrets],
                livemode=is_live_key(cached.stripe_secret_key.reveal()),
            )
        except SignatureRejected:
            pass  # perhaps rotated: once more below, reading the store
    return await asyncio.to_thread(stripe_inbox_record, body=body, signature_header=signature_header)


async def read_body(receive: Receive, headers: dict[bytes, bytes], *, limit: int) -> bytes | None:
    """The whole body, refused as soon as it is known to be over ``limit``; None on disconnect."""
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookRejected(f"body larger than {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(f"body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _host_allowed(host: bytes) -> bool:
    # Django refuses a Host outside ALLOWED_HOSTS on every request; so does this edge.
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as HttpRequest.get_host allows
    domain, _ = split_domain_port(host.decode("latin-1"))
    return bool(domain) and validate_host(domain, allowed)


async def respond(
    send: Send, status: int, content: dict[str, Any], *, extra_headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def with_stripe_webhook_endpoint(django_app: Any, *, path: str) -> Any:
    """The HTTP application: ``path`` answered by ``StripeWebhookEndpoint``, the rest by Django."""
    endpoint = StripeWebhookEndpoint()

    async def http_application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == path:
            await endpoint(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    http_application.endpoint = endpoint  # type: ignore[attr-defined]
    return http_application


def lifespan_application(endpoint: StripeWebhookEndpoint) -> Any:
    """ASGI lifespan: on a graceful shutdown (a deploy) the endpoint hands the rows it stored to
    the workers and closes its connection, rather than leaving them for the sweep."""

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await endpoint.aclose()
                except Exception:
                    logger.exception("closing the webhook inbox writer failed; the sweep takes what was left")
                await send({"type": "lifespan.shutdown.complete"})
                return

    return lifespan
