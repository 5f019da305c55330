"""Pages whose request lost its database connection answer 503 with Retry-After (issue 13.7).

A connection can be dropped in the middle of a request (a database restart or failover); health
checks only protect the next one. Such a request is worth retrying, so a shopper gets a short
"try again in a moment" page that reloads itself, not the 500 page; the broken connection is
closed so this thread's next request opens a new one. API paths answer a problem of their own
(payops/api/problems.py).
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

from payops.api.middleware import is_api_path

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 3


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)) or is_api_path(request):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception, exc_info=True)
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        # Rendered without the request: its context processors would ask the database again.
        body = render_to_string(
            "errors/database_unavailable.html",
            {"retry_after": RETRY_AFTER_SECONDS, "path": request.get_full_path()},
        )
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
