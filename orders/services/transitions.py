"""One service per order transition.

Each asks the transition table whether the move is allowed (raising ``TransitionNotAllowed`` if
not), applies the move with its side data, and records the event. Two forms of each:
``order_mark_paid(order_id=...)`` locks the order row itself; ``order_mark_paid_locked(order)``
works on an order the caller already holds locked and keeps it current in place, so processing
one Stripe event locks and loads the order once (ADR 0019).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.services.order_events import Cause, record_order_event
from orders.services.stock import release_order_stock, rereserve_order_stock
from orders.state_machine import OrderStatus, ensure_transition_allowed


def lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def move_order(order: Order, target: str, *, cause: Cause, data: dict[str, Any] | None = None) -> OrderEvent:
    ensure_transition_allowed(order.status, target)
    from_status = order.status
    order.status = target
    order.save(update_fields=["status", "paid_at", "updated_at"])
    return record_order_event(
        order=order, type=f"order.{target}", cause=cause, from_status=from_status, to_status=target, data=data
    )


def order_mark_awaiting_payment_locked(order: Order, *, cause: Cause, data: dict[str, Any] | None = None) -> Order:
    move_order(order, OrderStatus.AWAITING_PAYMENT, cause=cause, data=data)
    return order


@transaction.atomic
def order_mark_awaiting_payment(*, order_id: int, cause: Cause, data: dict[str, Any] | None = None) -> Order:
    return order_mark_awaiting_payment_locked(lock_order(order_id), cause=cause, data=data)


def order_mark_paid_locked(order: Order, *, cause: Cause, data: dict[str, Any] | None = None) -> Order:
    """Money arrived. If the order had already let its stock go, reserve it again or flag it."""
    ensure_transition_allowed(order.status, OrderStatus.PAID)
    if not rereserve_order_stock(order):
        move_order(
            order, OrderStatus.NEEDS_ATTENTION, cause=cause, data={**(data or {}), "reason": "paid_without_stock"}
        )
        return order
    order.paid_at = timezone.now()
    move_order(order, OrderStatus.PAID, cause=cause, data=data)
    return order


@transaction.atomic
def order_mark_paid(*, order_id: int, cause: Cause, data: dict[str, Any] | None = None) -> Order:
    return order_mark_paid_locked(lock_order(order_id), cause=cause, data=data)


def order_mark_payment_failed_locked(order: Order, *, cause: Cause, reason_code: str, reason_message: str) -> Order:
    move_order(order, OrderStatus.PAYMENT_FAILED, cause=cause, data={"code": reason_code, "message": reason_message})
    release_order_stock(order)
    return order


@transaction.atomic
def order_mark_payment_failed(*, order_id: int, cause: Cause, reason_code: str, reason_message: str) -> Order:
    return order_mark_payment_failed_locked(
        lock_order(order_id), cause=cause, reason_code=reason_code, reason_message=reason_message
    )


@transaction.atomic
def order_expire(*, order_id: int, cause: Cause) -> Order:
    order = lock_order(order_id)
    move_order(order, OrderStatus.EXPIRED, cause=cause)
    release_order_stock(order)
    return order


def order_cancel_locked(order: Order, *, cause: Cause, reason: str = "") -> Order:
    move_order(order, OrderStatus.CANCELLED, cause=cause, data={"reason": reason} if reason else None)
    release_order_stock(order)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, cause: Cause, reason: str = "") -> Order:
    return order_cancel_locked(lock_order(order_id), cause=cause, reason=reason)


def order_mark_needs_attention_locked(
    order: Order, *, cause: Cause, reason: str = "", data: dict[str, Any] | None = None
) -> Order:
    """A person must decide. ``data`` carries the reason and the facts behind it."""
    move_order(order, OrderStatus.NEEDS_ATTENTION, cause=cause, data={"reason": reason, **(data or {})})
    return order


@transaction.atomic
def order_mark_needs_attention(
    *, order_id: int, cause: Cause, reason: str = "", data: dict[str, Any] | None = None
) -> Order:
    return order_mark_needs_attention_locked(lock_order(order_id), cause=cause, reason=reason, data=data)


def order_mark_refunded_locked(
    order: Order, *, cause: Cause, data: dict[str, Any] | None = None, partial: bool = False
) -> Order:
    move_order(order, OrderStatus.PARTIALLY_REFUNDED if partial else OrderStatus.REFUNDED, cause=cause, data=data)
    return order


@transaction.atomic
def order_mark_refunded(
    *, order_id: int, cause: Cause, data: dict[str, Any] | None = None, partial: bool = False
) -> Order:
    return order_mark_refunded_locked(lock_order(order_id), cause=cause, data=data, partial=partial)


def order_mark_disputed_locked(order: Order, *, cause: Cause, dispute_id: str) -> Order:
    move_order(order, OrderStatus.DISPUTED, cause=cause, data={"dispute": dispute_id})
    return order


@transaction.atomic
def order_mark_disputed(*, order_id: int, cause: Cause, dispute_id: str) -> Order:
    return order_mark_disputed_locked(lock_order(order_id), cause=cause, dispute_id=dispute_id)


def order_return_from_dispute_locked(order: Order, *, cause: Cause, status: str) -> Order:
    """A dispute closed in the merchant's favour: the order goes back to where it was."""
    move_order(order, status, cause=cause, data={"reason": "dispute_won"})
    return order


@transaction.atomic
def order_return_from_dispute(*, order_id: int, cause: Cause, status: str) -> Order:
    return order_return_from_dispute_locked(lock_order(order_id), cause=cause, status=status)
