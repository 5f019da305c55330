"""Views for tests/payops/test_asgi_http.py: what the ASGI application hands Django."""

import hashlib
import threading

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

simulator_reached = threading.Event()


@csrf_exempt
def echo(request: HttpRequest) -> JsonResponse:
    body = request.body
    return JsonResponse(
        {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(), "thread": threading.get_ident()}
    )


def waits_for_the_simulator(request: HttpRequest) -> JsonResponse:
    # As a checkout's view does: holds its thread until the simulator (same server) answered.
    reached = simulator_reached.wait(timeout=5)
    return JsonResponse({"simulator_answered": reached}, status=200 if reached else 504)


def simulator_ping(request: HttpRequest) -> JsonResponse:
    simulator_reached.set()
    return JsonResponse({"ok": True})


urlpatterns = [
    path("echo/", echo),
    path("waits/", waits_for_the_simulator),
    path("simulator/ping/", simulator_ping),
]
