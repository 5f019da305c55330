"""``Idempotency-Key`` for every POST of the API, as Stripe has it.

``IdempotentPostMixin`` hooks into DRF's documented steps of a request: after authentication,
permissions and throttling have passed (``initial``), a POST with the header claims its key;
``finalize_response`` stores the answer (or releases the key). A replayed answer carries
``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from payops.api.problems import Problem
from payops.idempotency.services import (
    Claim,
    KeyInUse,
    KeyReused,
    StoredResponse,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from payops.json_depth import json_too_deep

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as in a header, at most 255
# Headers of an answer that are part of it and come back on a replay.
STORED_HEADERS = ("Location", "Retry-After")


class _Replay(Exception):
    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


def principal_of(request: Request) -> str:
    user = request.user
    return f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"


def canonical_body(raw: bytes) -> bytes:
    """The same JSON sent with other whitespace or key order is the same request."""
    if json_too_deep(raw):
        return raw  # the parser refuses it; meanwhile it must not crash here
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        return raw


class IdempotentPostMixin:
    idempotency_claim: Claim | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.idempotency_claim = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not KEY_SHAPE.match(key):
            raise Problem(
                status_code=status.HTTP_400_BAD_REQUEST,
                slug="invalid-idempotency-key",
                title="Invalid Idempotency-Key",
                detail="The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is typical).",
            )
        try:
            raw = request._request.body
        except RequestDataTooBig:
            raise Problem(
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                slug="request-too-large",
                title="Request too large",
                detail="The request body is too large.",
            ) from None
        fingerprint = request_fingerprint(method="POST", path=request.get_full_path(), body=canonical_body(raw))
        try:
            outcome = idempotency_claim(
                principal=principal_of(request), key=key, fingerprint=fingerprint, method="POST", path=request.path
            )
        except KeyInUse:
            raise Problem(
                status_code=status.HTTP_409_CONFLICT,
                slug="idempotency-key-in-use",
                title="Idempotency-Key in use",
                detail="A request with this Idempotency-Key is still being processed; retry shortly.",
                headers={"Retry-After": "1"},
            ) from None
        except KeyReused:
            raise Problem(
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                slug="idempotency-key-reused",
                title="Idempotency-Key reused",
                detail="This Idempotency-Key was used with a different request (method, path or body). "
                "Use a new key for a new request.",
            ) from None
        if isinstance(outcome, StoredResponse):
            raise _Replay(outcome)
        self.idempotency_claim = outcome

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            stored = exc.stored
            headers = {**stored.headers, REPLAYED_HEADER: "true"}
            return Response(
                stored.body, status=stored.status, headers=headers, content_type=stored.content_type or None
            )
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        claim, self.idempotency_claim = self.idempotency_claim, None
        if claim is None:
            return response
        try:
            _settle_claim(claim, response)
        except DatabaseError:
            # The database went away under this request: its key stays locked until
            # PAYOPS_IDEMPOTENCY_LOCK_SECONDS, then a retry runs (and continues what it made).
            logger.exception("could not settle Idempotency-Key record %s", claim.record_id)
        return response


def _settle_claim(claim: Claim, response: Response) -> None:
    if response.status_code >= 500:
        # The connection may have died with the request (a database failover): a new one
        # releases the key, so the client's retry does not wait out the lock.
        _reconnect_if_broken()
    if response.status_code >= 500 or response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        idempotency_release(claim=claim)  # a retry may succeed: let it run
        return
    idempotency_complete(
        claim=claim,
        response=StoredResponse(
            status=response.status_code,
            body=getattr(response, "data", None),
            headers={name: response[name] for name in STORED_HEADERS if name in response},
            content_type=getattr(response, "content_type", None) or "",
        ),
    )


def _reconnect_if_broken() -> None:
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
