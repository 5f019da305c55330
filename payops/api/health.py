"""The load balancer's health check: the process answers and the database is reachable."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers: no database, no cache. Also the baseline of the benchmarks."""
    return JsonResponse({"status": "ok"})
