import itertools

import pytest

from orders.models import OrderEvent
from orders.services.order_events import Cause
from orders.services.transitions import (
    order_cancel,
    order_expire,
    order_mark_awaiting_payment,
    order_mark_needs_attention,
    order_mark_paid,
    order_mark_payment_failed,
)
from orders.state_machine import TRANSITIONS, OrderStatus, TransitionNotAllowed, is_transition_allowed
from tests.factories import make_order, make_product

ALL = list(OrderStatus.values)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ALL, ALL)))
def test_every_pair_is_decided_by_the_table(current, target):
    expected = target in TRANSITIONS.get(current, frozenset())
    assert is_transition_allowed(current, target) is expected


def test_every_status_appears_in_the_table():
    assert set(TRANSITIONS) | {s for targets in TRANSITIONS.values() for s in targets} == set(ALL)


def test_terminal_and_side_exits():
    assert not is_transition_allowed(OrderStatus.COMPLETED, OrderStatus.PAID)
    assert not is_transition_allowed(OrderStatus.REFUNDED, OrderStatus.PAID)
    assert not is_transition_allowed(OrderStatus.PAID, OrderStatus.PENDING_PAYMENT)
    assert not is_transition_allowed(OrderStatus.PAID, OrderStatus.EXPIRED)
    assert is_transition_allowed(OrderStatus.EXPIRED, OrderStatus.PAID)  # late bank transfer


SERVICES = {
    OrderStatus.AWAITING_PAYMENT: lambda order_id, cause: order_mark_awaiting_payment(order_id=order_id, cause=cause),
    OrderStatus.PAID: lambda order_id, cause: order_mark_paid(order_id=order_id, cause=cause),
    OrderStatus.PAYMENT_FAILED: lambda order_id, cause: order_mark_payment_failed(
        order_id=order_id, cause=cause, reason_code="card_declined", reason_message="declined"
    ),
    OrderStatus.EXPIRED: lambda order_id, cause: order_expire(order_id=order_id, cause=cause),
    OrderStatus.CANCELLED: lambda order_id, cause: order_cancel(order_id=order_id, cause=cause),
    OrderStatus.NEEDS_ATTENTION: lambda order_id, cause: order_mark_needs_attention(
        order_id=order_id, cause=cause, reason="test"
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), list(itertools.product(ALL, list(SERVICES))))
def test_transition_services_follow_the_table(current, target):
    # given an order in `current`
    order = make_order(status=current)
    cause = Cause.webhook("evt_1")
    # when the service for `target` runs
    if is_transition_allowed(current, target):
        result = SERVICES[target](order.pk, cause)
        # then the order moved and an event with its cause was written
        assert result.status in (target, OrderStatus.NEEDS_ATTENTION)
        event = OrderEvent.objects.get(order=order)
        assert (event.from_status, event.to_status, event.cause_reference) == (current, result.status, "evt_1")
        assert event.sequence == 1
    else:
        with pytest.raises(TransitionNotAllowed):
            SERVICES[target](order.pk, cause)
        order.refresh_from_db()
        assert order.status == current
        assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("target", [OrderStatus.PAYMENT_FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED])
def test_leaving_unpaid_releases_stock_once(target):
    product = make_product(stock_on_hand=5)
    order = make_order(product=product, quantity=3)
    product.refresh_from_db()
    assert product.stock_available == 2
    SERVICES[target](order.pk, Cause.system("test"))
    product.refresh_from_db()
    assert product.stock_available == 5
    order.refresh_from_db()
    assert order.stock_state == "released"


@pytest.mark.django_db
def test_late_payment_rereserves_stock_or_needs_attention():
    product = make_product(stock_on_hand=3)
    order = make_order(product=product, quantity=3)
    order_expire(order_id=order.pk, cause=Cause.system("sweep"))
    # stock still there: the late payment takes it again
    paid = order_mark_paid(order_id=order.pk, cause=Cause.webhook("evt_late"))
    assert paid.status == OrderStatus.PAID
    product.refresh_from_db()
    assert product.stock_available == 0

    other = make_order(product=make_product(stock_on_hand=1), quantity=1)
    order_expire(order_id=other.pk, cause=Cause.system("sweep"))
    other_product = other.lines.get().product
    other_product.stock_on_hand = other_product.stock_reserved  # sold to someone else meanwhile
    other_product.save()
    flagged = order_mark_paid(order_id=other.pk, cause=Cause.webhook("evt_late2"))
    assert flagged.status == OrderStatus.NEEDS_ATTENTION
    assert flagged.events.last().data["reason"] == "paid_without_stock"


@pytest.mark.django_db
def test_order_events_are_append_only():
    order = make_order()
    order_cancel(order_id=order.pk, cause=Cause.system("test"))
    event = OrderEvent.objects.get(order=order)
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        OrderEvent.objects.filter(order=order).update(type="x")
    with pytest.raises(TypeError):
        OrderEvent.objects.filter(order=order).delete()
