"""``orders/state_machine.py`` checked against the lifecycle as the business states it
(tests/orders/lifecycle_spec.py). Every pair of statuses not listed there as allowed is forbidden,
and the forbidden moves that matter most are listed with their reason, so a reader (and a wrong
table) meets them by name.
"""

import itertools

import pytest

from orders.models import OrderEvent
from orders.services.order_events import Cause
from orders.services.transitions import (
    order_cancel,
    order_expire,
    order_mark_awaiting_payment,
    order_mark_disputed,
    order_mark_needs_attention,
    order_mark_paid,
    order_mark_payment_failed,
    order_mark_refunded,
    order_return_from_dispute,
)
from orders.state_machine import (
    PAID_STATUSES,
    TRANSITIONS,
    UNPAID_STATUSES,
    OrderStatus,
    TransitionNotAllowed,
    ensure_transition_allowed,
    is_transition_allowed,
)
from tests.factories import make_order, make_product
from tests.orders.lifecycle_spec import ALLOWED, FORBIDDEN, MONEY_HELD, STATUSES, UNPAID

PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_the_specification_is_consistent():
    assert not set(ALLOWED) & set(FORBIDDEN)
    assert {s for pair in [*ALLOWED, *FORBIDDEN] for s in pair} <= set(STATUSES)


def test_statuses_are_those_of_the_lifecycle():
    assert {s.value: str(s.label) for s in OrderStatus} == STATUSES


def test_the_table_is_the_specification():
    # one readable difference, both ways, before the pair-by-pair checks
    table = {(current, target) for current, targets in TRANSITIONS.items() for target in targets}
    assert {pair: "missing from TRANSITIONS" for pair in set(ALLOWED) - table} == {}
    assert {pair: "allowed by TRANSITIONS only" for pair in table - set(ALLOWED)} == {}


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_each_move_is_decided_as_specified(current, target):
    allowed = (current, target) in ALLOWED
    assert is_transition_allowed(current, target) is allowed
    if allowed:
        ensure_transition_allowed(current, target)
    else:
        with pytest.raises(TransitionNotAllowed, match=f"'{current}' cannot move to '{target}'") as raised:
            ensure_transition_allowed(current, target)
        assert (raised.value.current, raised.value.target) == (current, target)


@pytest.mark.parametrize("status", ["", "shipped_by_mistake", "PAID"])
def test_unknown_statuses_move_nowhere(status):
    assert not is_transition_allowed(status, OrderStatus.PAID)
    assert not is_transition_allowed(OrderStatus.PAID, status)


def test_unpaid_and_money_held_statuses():
    assert set(UNPAID_STATUSES) == UNPAID
    assert set(PAID_STATUSES) == MONEY_HELD


# The transition services of orders/services/transitions.py, by the status they move to.
SERVICES = {
    "awaiting_payment": lambda order_id, cause: order_mark_awaiting_payment(order_id=order_id, cause=cause),
    "paid": lambda order_id, cause: order_mark_paid(order_id=order_id, cause=cause),
    "payment_failed": lambda order_id, cause: order_mark_payment_failed(
        order_id=order_id, cause=cause, reason_code="card_declined", reason_message="declined"
    ),
    "expired": lambda order_id, cause: order_expire(order_id=order_id, cause=cause),
    "cancelled": lambda order_id, cause: order_cancel(order_id=order_id, cause=cause),
    "needs_attention": lambda order_id, cause: order_mark_needs_attention(
        order_id=order_id, cause=cause, reason="test"
    ),
    "refunded": lambda order_id, cause: order_mark_refunded(order_id=order_id, cause=cause),
    "partially_refunded": lambda order_id, cause: order_mark_refunded(order_id=order_id, cause=cause, partial=True),
    "disputed": lambda order_id, cause: order_mark_disputed(order_id=order_id, cause=cause, dispute_id="dp_1"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, SERVICES)))
def test_transition_services_move_only_as_specified(current, target):
    # given an order in `current`
    order = make_order(status=current)
    cause = Cause.webhook("evt_1")
    # when the service for `target` runs
    if (current, target) in ALLOWED:
        result = SERVICES[target](order.pk, cause)
        # then the order moved and one event with its cause was written
        assert result.status == target
        event = OrderEvent.objects.get(order=order)
        assert (event.type, event.from_status, event.to_status) == (f"order.{target}", current, target)
        assert (event.cause_reference, event.sequence) == ("evt_1", 1)
    else:
        # then it is refused and nothing changed
        with pytest.raises(TransitionNotAllowed, match=f"'{current}' cannot move to '{target}'"):
            SERVICES[target](order.pk, cause)
        order.refresh_from_db()
        assert order.status == current
        assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("before", [target for current, target in ALLOWED if current == "disputed"])
def test_a_won_dispute_returns_the_order_where_it_was(before):
    order = make_order(status="disputed")
    result = order_return_from_dispute(order_id=order.pk, cause=Cause.webhook("evt_won"), status=before)
    assert result.status == before
    assert OrderEvent.objects.get(order=order).data == {"reason": "dispute_won"}


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["payment_failed", "expired", "cancelled"])
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
