"""RFC 9457 problem details: every error the API returns, whatever raised it.

A problem is ``application/problem+json`` with ``type`` (a stable URN clients branch on),
``title``, ``status``, ``detail`` and, for invalid input, ``errors`` keyed by field path
(``items[0].quantity``). Unexpected exceptions are logged with their traceback and answered
with a bare 500 problem: the client never sees a stack trace.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:payops:problem:"


def problem_type(slug: str) -> str:
    return f"{PROBLEM_TYPE_PREFIX}{slug}"


class Problem(exceptions.APIException):
    """An API error with a stable machine-readable type, rendered as application/problem+json."""

    def __init__(
        self,
        *,
        status_code: int,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=detail)
        self.status_code = status_code
        self.slug = slug
        self.title = title
        self.headers = headers or {}
        self.extra = extra


def problem_body(*, status_code: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": problem_type(slug), "title": title, "status": status_code, "detail": detail, **extra}


class ProblemResponse(Response):
    """Always JSON, whatever renderer the view negotiated (the schema view's is YAML)."""

    @property
    def rendered_content(self) -> Any:
        self.accepted_renderer = JSONRenderer()
        self.accepted_media_type = PROBLEM_CONTENT_TYPE
        self.renderer_context = getattr(self, "renderer_context", None) or {}
        return super().rendered_content


def problem_response(
    *, status_code: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = problem_body(status_code=status_code, slug=slug, title=title, detail=detail, **extra)
    return ProblemResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error structure into {"items[0].quantity": ["..."]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list serializer reports items by index
                path = f"{prefix}[{key}]"
            else:
                name = key if key != "non_field_errors" else ""
                path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            errors.update(field_errors(value, path))
    elif isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            errors.update(field_errors(item, f"{prefix}[{index}]"))
    elif isinstance(detail, list):
        errors.setdefault(prefix or "request", []).extend(str(item) for item in detail if str(item))
    elif detail:
        errors.setdefault(prefix or "request", []).append(str(detail))
    return {key: value for key, value in errors.items() if value}


# DRF's own exceptions: slug and title of each (the first matching class wins).
SIMPLE_PROBLEMS: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("malformed-request", "Malformed request"),
    exceptions.UnsupportedMediaType: ("unsupported-media-type", "Unsupported media type"),
    exceptions.NotAuthenticated: ("not-authenticated", "Authentication required"),
    exceptions.AuthenticationFailed: ("authentication-failed", "Authentication failed"),
    exceptions.PermissionDenied: ("permission-denied", "Permission denied"),
    exceptions.NotFound: ("not-found", "Not found"),
    exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not-acceptable", "Not acceptable"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception raised in an API view becomes a problem."""
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound("No such resource.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        return _api_exception_response(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return _database_unavailable_response(exc)
    # Anything else is a bug: log it with its traceback, and never show it to the client.
    view = context.get("view")
    logger.exception("unhandled error in API view %s", type(view).__name__ if view else "?")
    set_rollback()
    return internal_error_response()


def _database_unavailable_response(exc: Exception) -> Response:
    """The database dropped this request's connection (a restart, a failover) or had none to
    give: a retry helps, so 503 with Retry-After, not a 500 (issue 13.7). The broken connection is
    closed, so the next request of this thread gets a new one."""
    logger.warning("database unavailable during an API request: %s", exc, exc_info=True)
    set_rollback()
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    return problem_response(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        slug="service-unavailable",
        title="Service unavailable",
        detail="The service is briefly unavailable. Retry shortly; retrying with the same Idempotency-Key is safe.",
        headers={"Retry-After": "1"},
    )


def internal_error_response() -> Response:
    return problem_response(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        slug="internal-error",
        title="Internal error",
        detail="Something went wrong on our side. It was logged; retrying later may help.",
    )


def _api_exception_response(exc: exceptions.APIException) -> Response:
    if isinstance(exc, Problem):
        return problem_response(
            status_code=exc.status_code,
            slug=exc.slug,
            title=exc.title,
            detail=str(exc.detail),
            headers=exc.headers,
            **exc.extra,
        )
    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        detail = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            slug="validation-error",
            title="The request has invalid fields",
            detail=detail,
            errors=errors,
        )
    slug, title = next(((s, t) for cls, (s, t) in SIMPLE_PROBLEMS.items() if isinstance(exc, cls)), ("error", "Error"))
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return problem_response(
        status_code=exc.status_code, slug=slug, title=title, detail=str(exc.detail), headers=headers or None
    )
