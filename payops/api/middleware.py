"""Problem details for errors that never reach an API view.

DRF's exception handler covers everything raised inside API views. A few errors happen
outside them: a path under ``/api/`` that matches no route (Django's 404 page), a crash in
middleware or in a non-DRF view, a DEBUG-mode ``RuntimeError`` for a POST without its
trailing slash. Django answers those with HTML (with a stack trace when DEBUG is on); this
middleware turns any such answer under ``/api/`` into a problem, so a client of the API only
ever parses JSON.
"""

from __future__ import annotations

import http
import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from payops.api.problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"
# Headers of the original answer that still mean something on the problem that replaces it.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

_DETAILS = {
    404: ("not-found", "No API endpoint or resource at this path."),
    405: ("method-not-allowed", "This method is not allowed here."),
    500: ("internal-error", "Something went wrong on our side. It was logged; retrying later may help."),
}


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def problem_http_response(status_code: int) -> HttpResponse:
    slug, detail = _DETAILS.get(status_code, ("error", ""))
    title = http.HTTPStatus(status_code).phrase if status_code in http.HTTPStatus._value2member_map_ else "Error"
    if slug == "error":
        slug = title.lower().replace(" ", "-")
        detail = title
    body = problem_body(status_code=status_code, slug=slug, title=title, detail=detail)
    return HttpResponse(json.dumps(body), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


class ApiProblemMiddleware(MiddlewareMixin):
    """Place it above CommonMiddleware so it also sees what that one answers or raises."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request):
            return None
        logger.error("unhandled error for %s %s", request.method, request.path, exc_info=exception)
        return problem_http_response(500)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code < 400 or not is_api_path(request):
            return response
        if response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE):
            return response
        problem = problem_http_response(response.status_code)
        for name in _KEPT_HEADERS:
            if name in response:
                problem[name] = response[name]
        return problem
