"""Processing one payment event is one lock and one pass (issue 12.2): the order row is locked
and loaded once, facts are recorded, then the order is reconciled once. The query counts are the
contract: a change that adds a query to this hot path must change the number here, on purpose.

Counted: the handler's transaction as the inbox runs it (``stripe_prepare`` outside it), with
every reaction to the order events it records (outbox row, mails, the fulfilment workflow).
"""

import re
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import make_order, make_payment, make_product
from tests.stripe_events import intent_object, stripe_event
from webhooks.handlers import StripeEvent, stripe_handle, stripe_prepare

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 1000
AMOUNT = 3000

# The order row: loaded (and locked, FOR UPDATE on PostgreSQL) exactly once per event.
_ORDER_LOAD = re.compile(r'^SELECT .* FROM "orders_order" WHERE "orders_order"\."id" = ')


def _process(payload):
    event = stripe_prepare(StripeEvent.from_payload(payload))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        outcome = stripe_handle(event)
    assert outcome.applied, outcome.detail
    return [q["sql"] for q in queries.captured_queries]


def _order_loads(sql):
    return [q for q in sql if _ORDER_LOAD.match(q)]


def _assert_one_lock(sql):
    loads = _order_loads(sql)
    assert len(loads) == 1, loads
    if connection.vendor == "postgresql":
        assert loads[0].rstrip().endswith("FOR UPDATE")


@pytest.fixture
def awaiting():
    def make(method):
        order = make_order(status="awaiting_payment", product=make_product(price_amount=AMOUNT, stock_on_hand=5))
        make_payment(order, intent_id="pi_q", method=method, status="requires_action", amount=AMOUNT)
        return order

    return make


def _succeeded(method):
    obj = intent_object("pi_q", status="succeeded", amount=AMOUNT, payment_method_types=[method])
    return stripe_event("payment_intent.succeeded", obj, created=T0)


# Queries of payment_intent.succeeded on an awaiting order, in the order they run:
#  3  savepoints (inbox's atomic, the handler's, the mail row's), 3 releases     -> 6 (+2 workflow)
#  payment by intent id; order locked; payment re-read under the lock; payment saved
#  the order's money (payments, refunds); order saved paid; event sequence; event row
#  reactions: outbox (payment, row), mails (dedupe, customer, lines, existing, insert),
#  workflow (physical lines, existing execution, execution, first step, execution update)
#  disputes of the payment
SUCCEEDED_QUERIES = 31


@pytest.mark.parametrize("method", ["konbini", "card"])
def test_payment_intent_succeeded_is_one_lock_and_one_pass(awaiting, method):
    order = awaiting(method)
    sql = _process(_succeeded(method))
    order.refresh_from_db()
    assert order.status == "paid"
    _assert_one_lock(sql)
    assert len(sql) == SUCCEEDED_QUERIES, "\n".join(sql)


def _charge_refunded(amount):
    refund = {"id": "re_q", "object": "refund", "amount": amount, "currency": "jpy", "status": "succeeded"}
    charge = {
        "id": "ch_q",
        "object": "charge",
        "payment_intent": "pi_q",
        "amount_refunded": amount,
        "refunds": {"object": "list", "data": [refund], "has_more": False},
    }
    return stripe_event("charge.refunded", charge, created=T0 + 5)


# charge.refunded of a paid order (partly): payment by intent id; order locked; payment re-read;
# payment saved; the refund row (lookup, insert in a savepoint) and its refund.succeeded event
# with reactions (outbox, mail); the order's money; disputes; order saved partially refunded with
# its event and outbox row.
REFUNDED_QUERIES = 30


def test_charge_refunded_is_one_lock_and_one_pass(awaiting):
    order = awaiting("card")
    _process(_succeeded("card"))
    sql = _process(_charge_refunded(1000))
    order.refresh_from_db()
    assert order.status == "partially_refunded"
    _assert_one_lock(sql)
    assert len(sql) == REFUNDED_QUERIES, "\n".join(sql)


def test_a_stale_redelivery_costs_no_order_move(awaiting):
    """The same succeeded again: the order is locked and read once, nothing is written to it."""
    order = awaiting("konbini")
    _process(_succeeded("konbini"))
    sql = _process({**_succeeded("konbini"), "id": "evt_again"})
    _assert_one_lock(sql)
    assert not [q for q in sql if q.startswith('UPDATE "orders_order"')]
    order.refresh_from_db()
    assert order.events.filter(type="order.paid").count() == 1
