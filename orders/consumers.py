"""WebSocket edges for live order status. They authorise, join a group and relay messages;
what a message says is built by orders.live.messages."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from orders.live.messages import MERCHANT_GROUP, order_group, shopper_update_message
from orders.models import Order
from orders.selectors import is_token_shaped, order_for_status_page
from payops.ratelimit import allow_connection
from payops.staff.levels import StaffLevel, user_has_level

# Application close codes (4000-4999), so a client can tell "stop trying" from a network drop.
CLOSE_UNKNOWN_ORDER = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429


def _client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client") or ("unknown", 0)
    return str(client[0])


class OrderStatusConsumer(AsyncJsonWebsocketConsumer):
    """``ws/orders/<token>/``: the token from the status URL is the only credential."""

    group: str | None = None

    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        # Accept first so the close code reaches the client; a refused handshake carries none.
        await self.accept()
        if not await database_sync_to_async(allow_connection)(key=f"ws-order:{_client_address(self.scope)}"):
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        if not await database_sync_to_async(_order_exists)(token):
            await self.close(code=CLOSE_UNKNOWN_ORDER)
            return
        # Join the group before reading the state: an update committed in between then reaches
        # us as a message, and the snapshot is at least as new as anything before it.
        self.group = order_group(token)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # On every (re)connect the client gets the current state, so nothing between two
        # connections is lost.
        snapshot = await database_sync_to_async(_snapshot_for_token)(token)
        if snapshot is not None:
            await self.send_json(snapshot)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only thing a client may ask: the current state again.
        if isinstance(content, dict) and content.get("type") == "refresh" and self.group:
            snapshot = await database_sync_to_async(_snapshot_for_token)(self.group.removeprefix("order."))
            if snapshot is not None:
                await self.send_json(snapshot)

    async def order_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])


def _order_exists(token: str) -> bool:
    return is_token_shaped(token) and Order.objects.filter(token=token).exists()


def _snapshot_for_token(token: str) -> dict[str, Any] | None:
    if not is_token_shaped(token):
        return None
    try:
        order = order_for_status_page(token=token)
    except Order.DoesNotExist:
        return None
    return shopper_update_message(order, event=None)


class MerchantConsumer(AsyncJsonWebsocketConsumer):
    """``ws/merchant/``: staff with the "view" level, by their dashboard session."""

    joined = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        # The same level the dashboard's pages need: seeing orders is "view".
        if not await database_sync_to_async(user_has_level)(user, StaffLevel.VIEW):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(MERCHANT_GROUP, self.channel_name)
        self.joined = True
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(MERCHANT_GROUP, self.channel_name)

    async def order_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])


class NotFoundConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_UNKNOWN_ORDER)
