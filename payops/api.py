"""API plumbing shared by every app: RFC 9457 problem responses and the health check."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(exceptions.APIException):
    """An API error with a stable machine-readable type, rendered as application/problem+json."""

    def __init__(self, *, status_code: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail=detail)
        self.status_code = status_code
        self.slug = slug
        self.title = title
        self.extra = extra


def problem_response(
    *, status_code: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {"type": f"urn:payops:problem:{slug}", "title": title, "status": status_code, "detail": detail, **extra}
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error structure into {"items[0].quantity": ["..."]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list serializer reports items by index
                path = f"{prefix}[{key}]"
            else:
                name = key if key != "non_field_errors" else ""
                path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            errors.update(_field_errors(value, path))
    elif isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            errors.update(_field_errors(item, f"{prefix}[{index}]"))
    elif isinstance(detail, list):
        errors.setdefault(prefix or "request", []).extend(str(item) for item in detail if str(item))
    elif detail:
        errors.setdefault(prefix or "request", []).append(str(detail))
    return {key: value for key, value in errors.items() if value}


_SIMPLE = {
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
    if isinstance(exc, Problem):
        return problem_response(
            status_code=exc.status_code, slug=exc.slug, title=exc.title, detail=str(exc.detail), **exc.extra
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        detail = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            slug="validation-error",
            title="The request has invalid fields",
            detail=detail,
            errors=errors,
        )
    if isinstance(exc, exceptions.APIException):
        slug, title = next(((s, t) for cls, (s, t) in _SIMPLE.items() if isinstance(exc, cls)), ("error", "Error"))
        headers = {"Retry-After": str(exc.wait)} if isinstance(exc, exceptions.Throttled) and exc.wait else None
        return problem_response(
            status_code=exc.status_code, slug=slug, title=title, detail=str(exc.detail), headers=headers
        )
    # Anything else is a bug: log it with its traceback, and never show it to the client.
    logger.exception("unhandled error in API view %s", context.get("view").__class__.__name__)
    return problem_response(
        status_code=500, slug="internal-error", title="Internal error", detail="Something went wrong on our side."
    )


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
