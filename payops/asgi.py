"""ASGI entry point: Django's HTTP on a bounded thread pool, one hop per request (ADR 0013);
the Stripe webhook answered on the event loop in front of it (ADR 0012); WebSockets through
Channels' router."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payops.settings")
# Django must be set up before anything imports models (the WebSocket routes do).
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import reverse  # noqa: E402

from payops.http import django_http_application  # noqa: E402
from payops.routing import websocket_urlpatterns  # noqa: E402
from payops.socket_handshake import RefusingOriginValidator, allowed_hosts_origin_refuser  # noqa: E402
from webhooks.asgi import lifespan_application, with_stripe_webhook_endpoint  # noqa: E402


def websocket_application() -> RefusingOriginValidator:
    # The Origin must be one of ALLOWED_HOSTS (read when this is built): no cross-site sockets.
    return allowed_hosts_origin_refuser(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


http_application = with_stripe_webhook_endpoint(django_http_application(), path=reverse("stripe-webhook"))
application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": websocket_application(),
        "lifespan": lifespan_application(http_application.endpoint),
    }
)
