"""WebSocket routes (wrapped in the Origin check and the auth stack in asgi.py)."""

from django.urls import path, re_path

from orders.consumers import MerchantConsumer, NotFoundConsumer, OrderStatusConsumer

websocket_urlpatterns = [
    path("ws/orders/<str:token>/", OrderStatusConsumer.as_asgi()),
    path("ws/merchant/", MerchantConsumer.as_asgi()),
    # Any other socket path gets a clean close code instead of a routing error.
    re_path(r"", NotFoundConsumer.as_asgi()),
]
