"""WebSocket routes. The live order-status consumers arrive with the Channels issue."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
