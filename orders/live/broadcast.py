"""Live order updates over the channel layer, sent only after the change has committed.

A reaction to every order event (registered in ``OrdersConfig.ready()``): the broadcast reads
the order as committed and sends one message to the shopper's group and one to the merchant
group.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from orders.live.messages import MERCHANT_GROUP, merchant_update_message, order_group, shopper_update_message
from orders.models import Order, OrderEvent
from orders.selectors import is_staff_only_event, order_with_details


def schedule_order_broadcast(*, order: Order, event: OrderEvent) -> None:
    order_id, event_id = order.pk, event.pk
    transaction.on_commit(lambda: broadcast_order_update(order_id=order_id, event_id=event_id), robust=True)


def broadcast_order_update(*, order_id: int, event_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    order = order_with_details(order_id=order_id)
    event = OrderEvent.objects.get(pk=event_id)
    if not is_staff_only_event(event.type):  # a staff note or audit record changes nothing for the shopper
        shopper_message = shopper_update_message(order, event=event)
        async_to_sync(layer.group_send)(order_group(order.token), {"type": "order.update", "message": shopper_message})
    async_to_sync(layer.group_send)(
        MERCHANT_GROUP, {"type": "order.update", "message": merchant_update_message(order, event)}
    )
