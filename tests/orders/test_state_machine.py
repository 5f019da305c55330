"""The order lifecycle as the business states it, checked against ``orders/state_machine.py``.

The moves below are written from ARCHITECTURE.md ("Order lifecycle") and ADR 0004, each with the
reason a person would give for it; they are deliberately *not* computed from ``TRANSITIONS``. Every
pair of statuses not listed as allowed is forbidden, and the forbidden moves that matter most are
listed again with their reason, so a reader (and a wrong table) meets them by name.
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

# The statuses, with the name staff read on the dashboard (ARCHITECTURE.md, "Order lifecycle").
STATUSES = {
    "pending_payment": "Pending payment",
    "awaiting_payment": "Awaiting payment",
    "paid": "Paid",
    "fulfilling": "Fulfilling",
    "awaiting_approval": "Awaiting approval",
    "shipped": "Shipped",
    "completed": "Completed",
    "payment_failed": "Payment failed",
    "expired": "Expired",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "partially_refunded": "Partially refunded",
    "disputed": "Disputed",
    "needs_attention": "Needs attention",
}

# Every allowed move and why it happens. Anything not here is forbidden.
ALLOWED: dict[tuple[str, str], str] = {
    # --- getting paid -------------------------------------------------------------------------
    (
        "pending_payment",
        "awaiting_payment",
    ): "a konbini voucher is issued, transfer instructions shown or 3-D Secure asked",
    ("pending_payment", "paid"): "a card is paid at checkout without a further step",
    ("pending_payment", "payment_failed"): "the card is declined at checkout",
    ("pending_payment", "expired"): "the shopper never confirmed the payment; stock is released",
    ("pending_payment", "cancelled"): "the shopper or staff cancel before paying",
    ("awaiting_payment", "paid"): "the voucher is paid, the transfer fully funded or 3-D Secure passed",
    ("awaiting_payment", "payment_failed"): "3-D Secure or the payment method fails",
    ("awaiting_payment", "expired"): "the voucher or transfer window passed; stock is released",
    ("awaiting_payment", "cancelled"): "the shopper or staff cancel before paying",
    # --- late money after a decline or an expiry (ADR 0004: re-reserve stock, or a person decides)
    ("payment_failed", "awaiting_payment"): "the shopper retries and the new attempt needs a step",
    ("payment_failed", "paid"): "a retried card succeeds after a decline",
    ("payment_failed", "needs_attention"): "money arrives after a decline but the stock is gone",
    ("expired", "paid"): "a late transfer or voucher payment arrives and the stock is still there",
    ("expired", "needs_attention"): "late money arrives and the stock is gone",
    ("cancelled", "needs_attention"): "money arrives for a cancelled order: a person refunds or revives it",
    # --- fulfilment ---------------------------------------------------------------------------
    ("paid", "fulfilling"): "the fulfilment workflow starts on order.paid",
    ("fulfilling", "awaiting_approval"): "the workflow asks a person to approve (review open, large order)",
    ("awaiting_approval", "fulfilling"): "a person approves; fulfilment continues",
    ("fulfilling", "shipped"): "the parcel leaves, or a digital good is delivered",
    ("shipped", "completed"): "delivery is confirmed",
    # --- refunds, before and after shipment ---------------------------------------------------
    ("paid", "refunded"): "refunded in full before fulfilment",
    ("paid", "partially_refunded"): "part refunded before fulfilment",
    ("fulfilling", "refunded"): "refunded in full during fulfilment (compensation refunds too)",
    ("fulfilling", "partially_refunded"): "part refunded during fulfilment",
    ("awaiting_approval", "refunded"): "the approver rejects the order, which refunds it in full",
    ("shipped", "refunded"): "refunded in full after shipment (goods returned)",
    ("shipped", "partially_refunded"): "part refunded after shipment",
    ("completed", "refunded"): "refunded in full after completion",
    ("completed", "partially_refunded"): "part refunded after completion",
    ("partially_refunded", "partially_refunded"): "a further partial refund",
    ("partially_refunded", "refunded"): "the rest is refunded",
    ("partially_refunded", "fulfilling"): "a partly refunded order still gets the rest of its goods",
    ("partially_refunded", "shipped"): "... and they ship",
    ("partially_refunded", "completed"): "... and delivery is confirmed",
    # --- disputes (chargebacks), in any paid state, also after shipment or a refund ------------
    ("paid", "disputed"): "the card holder disputes the charge",
    ("fulfilling", "disputed"): "disputed during fulfilment",
    ("awaiting_approval", "disputed"): "disputed while waiting for approval",
    ("shipped", "disputed"): "disputed after shipment",
    ("completed", "disputed"): "disputed after completion",
    ("partially_refunded", "disputed"): "disputed after a partial refund",
    ("refunded", "disputed"): "a card holder can dispute even a refunded charge",
    # A won dispute returns the order to where it was; a lost one ends it refunded.
    ("disputed", "paid"): "won, the order was paid",
    ("disputed", "fulfilling"): "won, the order was being fulfilled",
    ("disputed", "awaiting_approval"): "won, the order was waiting for approval",
    ("disputed", "shipped"): "won, the order was shipped",
    ("disputed", "completed"): "won, the order was completed",
    ("disputed", "partially_refunded"): "won, the order was partly refunded",
    ("disputed", "refunded"): "lost (the money went back), or won on a refunded order",
    # --- needs_attention: a person takes over -------------------------------------------------
    ("paid", "needs_attention"): "the workflow failed and compensation ran or could not run",
    ("fulfilling", "needs_attention"): "the workflow failed during fulfilment",
    ("awaiting_approval", "needs_attention"): "the workflow failed while waiting for approval",
    ("partially_refunded", "needs_attention"): "the workflow failed on a partly refunded order",
    ("disputed", "needs_attention"): "the workflow failed while a dispute is open",
    # ... and every way out of it, each a person's decision.
    ("needs_attention", "paid"): "the person confirms the money and the stock: start again from paid",
    ("needs_attention", "fulfilling"): "the person restarts fulfilment",
    ("needs_attention", "shipped"): "the person shipped it by hand",
    ("needs_attention", "refunded"): "the person refunds it",
    ("needs_attention", "cancelled"): "nothing was taken or all is settled: the person cancels it",
}

# The forbidden moves that a wrong table is most likely to allow, and why they are wrong.
FORBIDDEN: dict[tuple[str, str], str] = {
    ("awaiting_approval", "shipped"): "approval is never skipped: only a person's approval leads on",
    ("awaiting_approval", "partially_refunded"): "a partial refund must not end the wait for approval "
    "(partially_refunded may ship)",
    ("paid", "shipped"): "nothing ships without fulfilment",
    ("paid", "awaiting_approval"): "approval is asked by the running fulfilment",
    ("pending_payment", "shipped"): "nothing ships unpaid",
    ("awaiting_payment", "fulfilling"): "nothing is fulfilled unpaid",
    ("pending_payment", "refunded"): "nothing to refund before money arrived",
    ("awaiting_payment", "disputed"): "nothing to dispute before money arrived",
    ("cancelled", "paid"): "money on a cancelled order goes to a person, never silently to paid",
    ("cancelled", "awaiting_payment"): "a cancelled order takes no new payment",
    ("expired", "awaiting_payment"): "an expired window is not reopened",
    ("payment_failed", "expired"): "a failed payment already released its stock",
    ("payment_failed", "cancelled"): "a failed payment already released its stock; late money may still come",
    ("paid", "pending_payment"): "money taken is never un-taken by a status",
    ("paid", "expired"): "a paid order never expires",
    ("paid", "cancelled"): "a paid order is refunded, not cancelled",
    ("fulfilling", "cancelled"): "a paid order is refunded, not cancelled",
    ("shipped", "cancelled"): "shipped goods cannot be cancelled",
    ("shipped", "fulfilling"): "shipment is not undone",
    ("shipped", "needs_attention"): "after shipment a problem is a refund or a dispute",
    ("completed", "paid"): "completion is not undone",
    ("completed", "needs_attention"): "after completion a problem is a refund or a dispute",
    ("refunded", "paid"): "a refunded order is over; only a dispute can still follow",
    ("refunded", "partially_refunded"): "refunds only grow",
    ("refunded", "fulfilling"): "a refunded order is not fulfilled",
    ("needs_attention", "completed"): "completion needs a shipment first",
    ("needs_attention", "partially_refunded"): "a partial refund leaves the order with the person",
    ("needs_attention", "disputed"): "a dispute on an order with a person stays with that person",
    ("paid", "paid"): "a repeat of the same news is not a move",
    ("disputed", "disputed"): "a second dispute is not a move",
}

# Statuses in which stock is held for an order nobody has paid yet.
UNPAID = {"pending_payment", "awaiting_payment"}
# Statuses in which the order holds money taken from the shopper.
MONEY_HELD = {
    "paid",
    "fulfilling",
    "awaiting_approval",
    "shipped",
    "completed",
    "partially_refunded",
    "disputed",
}

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
