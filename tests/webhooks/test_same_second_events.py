"""Events of one object stamped with the same second, and workers racing each other.

Stripe's ``created`` has one-second resolution, so "newer" cannot always be told from the
timestamp. The rule (issue 13.1): a payment's status only moves forward — a final ``succeeded``
is never replaced by an earlier stage, whatever the timestamps — and refunded totals never
shrink because the smaller figure happened to be processed last. Decided under the order lock.
"""

import threading
import time

import pytest
from django.db import connection

from orders.models import Order, Payment
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action, payment_intent_json
from tests.markers import requires_postgres
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks.handlers import StripeEvent, stripe_handle, stripe_prepare

T0 = int(time.time()) - 1000
AMOUNT = 6000


def _bank_transfer_order(intent_id="pi_same"):
    order = make_order(status="awaiting_payment", product=make_product(price_amount=AMOUNT, stock_on_hand=5))
    payment = make_payment(order, intent_id=intent_id, method="bank_transfer", status="requires_action", amount=AMOUNT)
    return order, payment


def _funded(intent_id, created):
    return stripe_event(
        "payment_intent.succeeded",
        intent_object(intent_id, status="succeeded", amount=AMOUNT, payment_method_types=["customer_balance"]),
        created=created,
    )


def _partially_funded(intent_id, created, remaining=2500):
    return stripe_event(
        "payment_intent.partially_funded",
        intent_object(
            intent_id,
            status="requires_action",
            amount=AMOUNT,
            payment_method_types=["customer_balance"],
            next_action=bank_transfer_next_action(remaining),
        ),
        created=created,
    )


def _processed(event):
    row = deliver(event)
    assert (row.status, row.last_error) == ("processed", "")
    return row


def _assert_paid(order, payment):
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid"
    assert (payment.status, payment.amount_received) == ("succeeded", AMOUNT)


@pytest.mark.django_db
def test_a_same_second_earlier_stage_after_succeeded_keeps_the_payment_paid():
    order, payment = _bank_transfer_order()
    _processed(_funded("pi_same", T0))
    _processed(_partially_funded("pi_same", T0))
    _assert_paid(order, payment)


@pytest.mark.django_db
def test_a_later_stamped_earlier_stage_never_replaces_succeeded():
    order, payment = _bank_transfer_order()
    _processed(_funded("pi_same", T0))
    _processed(_partially_funded("pi_same", T0 + 5))
    _assert_paid(order, payment)


@pytest.mark.django_db
def test_a_worker_that_prepared_before_succeeded_committed_does_not_regress_it():
    """Two workers: B prepares its partially_funded (no same-second conflict visible yet), A
    applies succeeded and commits, then B applies. The check that matters runs under the lock."""
    order, payment = _bank_transfer_order()
    late = stripe_prepare(StripeEvent.from_payload(_partially_funded("pi_same", T0)))
    assert late.current_intent is None
    stripe_handle(stripe_prepare(StripeEvent.from_payload(_funded("pi_same", T0))))
    stripe_handle(late)
    _assert_paid(order, payment)


@pytest.mark.django_db
def test_same_second_partial_fundings_keep_the_smaller_amount_remaining():
    _order, payment = _bank_transfer_order()
    deliver(_partially_funded("pi_same", T0, remaining=1000))
    deliver(_partially_funded("pi_same", T0, remaining=2500))
    payment.refresh_from_db()
    assert payment.amount_remaining == 1000


def _charge_refunded(intent_id, amount_refunded, created, refunds=None):
    charge = {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": AMOUNT,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= AMOUNT,
    }
    if refunds is not None:
        charge["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return stripe_event("charge.refunded", charge, created=created)


def _refund(refund_id, amount, intent_id="pi_same"):
    return {
        "id": refund_id,
        "object": "refund",
        "payment_intent": intent_id,
        "amount": amount,
        "currency": "jpy",
        "status": "succeeded",
    }


@pytest.mark.django_db
def test_two_charge_refunded_in_one_second_keep_the_larger_total():
    order, payment = _bank_transfer_order()
    deliver(_funded("pi_same", T0))
    deliver(_charge_refunded("pi_same", 5000, T0 + 10))
    deliver(_charge_refunded("pi_same", 2000, T0 + 10))
    payment.refresh_from_db()
    assert payment.amount_refunded == 5000
    order.refresh_from_db()
    assert order.status == "partially_refunded"


@pytest.mark.django_db
def test_refunded_total_is_the_sum_of_the_refunds_by_id_whatever_the_charge_figure_says():
    order, _payment = _bank_transfer_order()
    deliver(_funded("pi_same", T0))
    first, second = _refund("re_1", 2000), _refund("re_2", 4000)
    # The later charge snapshot (both refunds) is processed first; the earlier one repeats re_1.
    deliver(_charge_refunded("pi_same", 6000, T0 + 10, refunds=[second, first]))
    deliver(_charge_refunded("pi_same", 2000, T0 + 10, refunds=[first]))
    order.refresh_from_db()
    assert order.status == "refunded"


# --- real workers on PostgreSQL ----------------------------------------------------------------


def _race(events_by_thread):
    """Deliver each list of events from its own thread and connection, the n-th event of every
    list at the same moment."""
    barrier = threading.Barrier(len(events_by_thread))
    errors = []

    def run(events):
        try:
            for event in events:
                barrier.wait(timeout=60)
                row = deliver(event)
                if row.status != "processed":
                    errors.append((event["type"], row.status, row.last_error))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(events,)) for events in events_by_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_leave_a_paid_order_with_an_unpaid_payment(fake_stripe):
    """The attack of issue 13.1: funded twice in one second, succeeded and partially_funded
    processed by two workers at once, for ten orders. Stripe, asked to settle a same-second
    conflict, reports the intents as they are now: succeeded."""
    fake_stripe.responder = lambda request: (
        200,
        payment_intent_json(
            id=request.path.rsplit("/", 1)[-1],
            amount=AMOUNT,
            amount_received=AMOUNT,
            status="succeeded",
            payment_method_types=["customer_balance"],
        ),
    )
    orders = [_bank_transfer_order(intent_id=f"pi_race_{n}")[0] for n in range(10)]
    funded = [_funded(f"pi_race_{n}", T0) for n in range(10)]
    partial = [_partially_funded(f"pi_race_{n}", T0) for n in range(10)]
    errors = _race([funded, partial])
    assert errors == []
    regressed = [
        (order.number, payment.status, payment.amount_received)
        for order in Order.objects.filter(pk__in=[o.pk for o in orders])
        for payment in Payment.objects.filter(order=order)
        if order.status == "paid" and (payment.status, payment.amount_received) != ("succeeded", AMOUNT)
    ]
    assert regressed == []
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"paid"}


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_charge_refunded_keep_the_larger_total():
    intents = [f"pi_refund_race_{n}" for n in range(10)]
    payments = [_bank_transfer_order(intent_id=intent)[1] for intent in intents]
    for intent in intents:
        deliver(_funded(intent, T0))
    errors = _race(
        [
            [_charge_refunded(intent, 5000, T0 + 10) for intent in intents],
            [_charge_refunded(intent, 2000, T0 + 10) for intent in intents],
        ]
    )
    assert errors == []
    assert set(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("amount_refunded", flat=True)) == {
        5000
    }
