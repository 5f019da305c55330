"""Fulfilment transitions: the steps between paid and completed, used by the fulfilment
workflow and by staff. Each locks the order, asks the transition table and records its event."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from orders.errors import ActionNotAllowed
from orders.models import Dispute, Order, Payment, Product, Shipment
from orders.models.orders import StockState
from orders.services.order_events import Cause, record_order_event
from orders.services.stock import lock_products, release_order_stock
from orders.services.transitions import lock_order, move_order
from orders.state_machine import OrderStatus, is_transition_allowed


def _ensure(order: Order, target: str, action: str) -> None:
    if not is_transition_allowed(order.status, target):
        raise ActionNotAllowed(f"cannot {action}: order {order.number} is {order.get_status_display().lower()}")


@transaction.atomic
def order_start_fulfilment(*, order_id: int, cause: Cause) -> Order:
    """Paid → fulfilling, turning the reservation into a committed stock movement."""
    order = lock_order(order_id)
    if order.status == OrderStatus.FULFILLING:
        return order
    _ensure(order, OrderStatus.FULFILLING, "start fulfilment")
    commit_order_stock(order)
    move_order(order, OrderStatus.FULFILLING, cause=cause)
    return order


def commit_order_stock(order: Order) -> bool:
    """Reserved units leave the warehouse's count. Idempotent."""
    if order.stock_state != StockState.RESERVED:
        return False
    quantities = dict(order.lines.values_list("product_id", "quantity"))
    lock_products(sorted(quantities))
    for pk, quantity in sorted(quantities.items()):
        Product.objects.filter(pk=pk).update(
            stock_on_hand=F("stock_on_hand") - quantity, stock_reserved=F("stock_reserved") - quantity
        )
    order.stock_state = StockState.COMMITTED
    order.save(update_fields=["stock_state", "updated_at"])
    return True


@transaction.atomic
def order_request_approval(*, order_id: int, cause: Cause, reasons: list[str]) -> Order:
    order = lock_order(order_id)
    if order.status == OrderStatus.AWAITING_APPROVAL:
        return order
    _ensure(order, OrderStatus.AWAITING_APPROVAL, "ask for approval")
    move_order(order, OrderStatus.AWAITING_APPROVAL, cause=cause, data={"reasons": reasons})
    return order


@transaction.atomic
def order_approve(*, order_id: int, cause: Cause, note: str = "") -> Order:
    order = lock_order(order_id)
    if order.status != OrderStatus.AWAITING_APPROVAL:
        raise ActionNotAllowed(f"order {order.number} is not waiting for approval ({order.status})")
    move_order(order, OrderStatus.FULFILLING, cause=cause, data={"approved": True, "note": note[:500]})
    return order


@transaction.atomic
def order_mark_shipped(
    *, order_id: int, cause: Cause, carrier: str, tracking_number: str, tracking_url: str = ""
) -> Order:
    order = lock_order(order_id)
    # The transition table lets a disputed order move to shipped (for a won dispute), so this
    # check is what keeps a parcel from leaving during a dispute or an open Radar review.
    holds = fulfilment_hold_reasons(order)
    if holds:
        raise ActionNotAllowed(f"shipment of order {order.number} is on hold: {'; '.join(holds)}")
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise ActionNotAllowed("a shipment needs a carrier and a tracking number")
    if (
        order.status == OrderStatus.SHIPPED
        and order.shipments.filter(carrier=carrier, tracking_number=tracking_number).exists()
    ):
        return order  # the same shipment entered twice
    _ensure(order, OrderStatus.SHIPPED, "mark as shipped")
    try:
        with transaction.atomic():
            Shipment.objects.create(
                order=order,
                carrier=carrier[:64],
                tracking_number=tracking_number[:128],
                tracking_url=tracking_url[:200],
                shipped_by=cause.staff_user,
            )
    except IntegrityError:
        return order
    move_order(
        order,
        OrderStatus.SHIPPED,
        cause=cause,
        data={"carrier": carrier, "tracking_number": tracking_number, "tracking_url": tracking_url},
    )
    return order


@transaction.atomic
def order_mark_delivered(*, order_id: int, cause: Cause, assumed_after_days: int | None = None) -> Order:
    """Shipped → delivered: staff confirm it, a digital good is delivered on the spot, or the
    delivery sweep assumes it ``assumed_after_days`` after shipping (ADR 0004)."""
    order = lock_order(order_id)
    if order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return order
    _ensure(order, OrderStatus.DELIVERED, "mark as delivered")
    data = {"assumed_after_days": assumed_after_days} if assumed_after_days is not None else None
    move_order(order, OrderStatus.DELIVERED, cause=cause, data=data)
    return order


def orders_mark_delivered_due(*, now: dt.datetime | None = None) -> int:
    """Orders shipped longer ago than PAYOPS_DELIVERED_AFTER_DAYS count as delivered (carriers
    in Japan deliver in one to three days; a shopper who got nothing asks long before)."""
    days = settings.PAYOPS_DELIVERED_AFTER_DAYS
    if days <= 0:
        return 0  # only staff confirm deliveries
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    due = (
        Order.objects.filter(status=OrderStatus.SHIPPED, shipments__shipped_at__lt=cutoff)
        .distinct()
        .values_list("pk", flat=True)
    )
    delivered = 0
    for order_id in list(due):
        try:
            order_mark_delivered(order_id=order_id, cause=Cause.system("delivery-sweep"), assumed_after_days=days)
            delivered += 1
        except ActionNotAllowed:
            continue  # refunded or disputed since the query: nothing to assume
    return delivered


@transaction.atomic
def order_note(*, order_id: int, cause: Cause, text: str) -> None:
    """A staff note on the timeline (no status change)."""
    order = lock_order(order_id)
    record_order_event(order=order, type="staff.note", cause=cause, data={"text": text[:2000]})


# --- for the fulfilment workflow (orders/workflows/fulfilment.py) --------------------------------


@transaction.atomic
def order_deliver_digital(*, order_id: int, cause: Cause) -> Order:
    """Fulfilling → shipped for an order of digital goods only: delivery needs no parcel."""
    order = lock_order(order_id)
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return order
    if order.lines.filter(product__is_digital=False).exists():
        raise ActionNotAllowed(f"order {order.number} has goods to ship; enter the shipment instead")
    _ensure(order, OrderStatus.SHIPPED, "deliver")
    move_order(order, OrderStatus.SHIPPED, cause=cause, data={"digital": True})
    return order


@transaction.atomic
def order_return_stock(*, order_id: int, cause: Cause, reason: str) -> bool:
    """Fulfilment called off before anything left the warehouse: the units the order reserved or
    committed are available again. Idempotent; False when there is nothing to give back."""
    order = lock_order(order_id)
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED) or order.shipments.exists():
        return False  # the goods are with the shopper or the carrier
    quantities = dict(order.lines.values_list("product_id", "quantity"))
    if order.stock_state == StockState.RESERVED:
        release_order_stock(order)
    elif order.stock_state == StockState.COMMITTED:
        lock_products(sorted(quantities))
        for pk, quantity in sorted(quantities.items()):
            Product.objects.filter(pk=pk).update(stock_on_hand=F("stock_on_hand") + quantity)
        order.stock_state = StockState.RELEASED
        order.save(update_fields=["stock_state", "updated_at"])
    else:
        return False
    lines = [{"sku": sku, "quantity": quantity} for sku, quantity in order.lines.values_list("sku", "quantity")]
    record_order_event(order=order, type="stock.returned", cause=cause, data={"reason": reason[:500], "lines": lines})
    return True


def fulfilment_hold_reasons(order: Order, *, reviews: bool = True) -> list[str]:
    """What holds an order's shipment: open disputes (goods shipped during one are usually lost
    with it) and, unless ``reviews`` is False, open Radar reviews."""
    holds = [
        f"dispute {dispute_id} is open"
        for dispute_id in Dispute.objects.filter(payment__order=order)
        .exclude(status__in=Dispute.CLOSED_STATUSES)
        .values_list("dispute_id", flat=True)
    ]
    if reviews:
        holds += [
            f"a Radar review of {intent_id} is open"
            for intent_id in Payment.objects.filter(order=order, review_open=True).values_list("intent_id", flat=True)
        ]
    return holds
