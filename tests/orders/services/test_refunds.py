"""Refunds still in flight hold their money: whatever state the first refund is in, a second one
can never take more than the shopper paid. Expected amounts come from the rule (received less
everything refunded or on its way), not from ``refundable_amount``."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from orders.errors import ActionNotAllowed
from orders.models import Payment, Refund
from orders.selectors import refundable_amount
from orders.services.order_events import Cause
from orders.services.refunds import order_refund, refunds_awaiting_submission
from payops.stripe.gateway import GatewayError, GatewayUnavailable, RefundData
from tests.factories import make_order, make_payment, make_product
from tests.markers import requires_postgres

PAID = 10_000


class StubGateway:
    """Answers refunds as Stripe would, with the status the test asks for."""

    def __init__(self, status="succeeded"):
        self.status = status
        self.amounts = []

    def create_refund(self, *, intent_id, amount, reason, idempotency_key, metadata=None):
        if self.status == "unavailable":
            raise GatewayUnavailable("Stripe did not answer")
        if self.status == "refused":
            raise GatewayError("Stripe says no: " + "x" * 300, code="charge_disputed")
        self.amounts.append(amount)
        ours = (metadata or {})["payops_refund_id"]
        return RefundData(
            id=f"re_{ours}",
            status=self.status,
            amount=amount,
            currency="JPY",
            payment_intent=intent_id,
            failure_reason="",
        )


def make_paid_order():
    order = make_order(status="paid", product=make_product(price_amount=PAID, stock_on_hand=3))
    payment = make_payment(order, intent_id=f"pi_r{order.pk}", status="succeeded", amount=PAID, amount_received=PAID)
    return order, payment


def refund(order, amount, key, status="succeeded"):
    gateway = StubGateway(status)
    try:
        return order_refund(
            order_id=order.pk, amount=amount, reason="r", cause=Cause.system("test"), request_key=key, gateway=gateway
        )
    except GatewayUnavailable:
        return Refund.objects.get(request_key=key)


def money_out(payment):
    """Refunded or on its way: every refund row Stripe has not turned down."""
    return sum(
        Refund.objects.filter(payment=payment)
        .exclude(status__in=["failed", "canceled"])
        .values_list("amount", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("first_status", ["unavailable", "pending", "requires_action", "succeeded"])
def test_a_refund_in_flight_holds_its_amount(first_status):
    # given a first refund of 6,000 that Stripe has not finished (or not even received)
    order, payment = make_paid_order()
    first = refund(order, 6000, "first", first_status)
    assert first.status == {"unavailable": "requested"}.get(first_status, first_status)
    # when staff refund again: one yen over what is left is refused ...
    with pytest.raises(ActionNotAllowed, match="at most ¥4,000 can still be refunded"):
        refund(order, 4001, "second")
    # ... what is left is refunded, and then nothing more
    assert refund(order, 4000, "third").status == "succeeded"
    with pytest.raises(ActionNotAllowed, match="nothing is left to refund"):
        refund(order, None, "fourth")
    assert money_out(payment) == PAID


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["failed", "canceled"])
def test_a_refund_stripe_turned_down_gives_its_amount_back(outcome):
    order, payment = make_paid_order()
    refund(order, 6000, "first", outcome)
    assert refundable_amount(payment) == PAID
    assert refund(order, None, "again").amount == PAID


@pytest.mark.django_db
def test_refunds_known_only_from_the_charge_total_count_too():
    # a refund made in Stripe's dashboard: only the charge's amount_refunded tells us
    order, payment = make_paid_order()
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=3000)
    with pytest.raises(ActionNotAllowed, match="at most ¥7,000"):
        refund(order, 7001, "a")
    assert refund(order, None, "b").amount == 7000


@pytest.mark.django_db
def test_a_dashboard_refund_and_one_of_ours_in_flight_are_both_counted():
    # given 4,000 refunded in Stripe's dashboard (known from the charge total only) and 3,000
    # of ours that Stripe has not answered yet
    order, payment = make_paid_order()
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=4000)
    refund(order, 3000, "ours", "unavailable")
    # then 3,000 is all that is left
    payment.refresh_from_db()
    assert refundable_amount(payment) == 3000
    with pytest.raises(ActionNotAllowed, match="at most ¥3,000"):
        refund(order, 3001, "more")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1, -PAID])
def test_zero_and_negative_refunds_are_refused_at_the_service(amount):
    order, _payment = make_paid_order()
    with pytest.raises(ActionNotAllowed, match="refund amount must be more than zero"):
        refund(order, amount, "k")
    assert not Refund.objects.exists()
    assert not order.events.filter(type="refund.requested").exists()


@pytest.mark.django_db
def test_one_yen_can_be_refunded_and_the_last_yen_too():
    order, payment = make_paid_order()
    assert refund(order, 1, "one").amount == 1
    assert refund(order, PAID - 2, "most").amount == PAID - 2
    assert refundable_amount(Payment.objects.get(pk=payment.pk)) == 1
    assert refund(order, None, "last").amount == 1
    assert money_out(payment) == PAID


@pytest.mark.django_db
def test_what_a_refund_records_on_the_order():
    # given a refund with a reason longer than the column
    order, _payment = make_paid_order()
    long_reason = "damaged in transit; " * 20
    done = refund(order, 2500, "k", "succeeded")
    # then the request and Stripe's answer are both on the order's history, with what they were
    assert done.reason == "r"
    requested = order.events.get(type="refund.requested")
    assert requested.data == {"amount": 2500, "reason": "r", "refund_id": f"payops-{done.pk}"}
    succeeded = order.events.get(type="refund.succeeded")
    assert succeeded.data == {"refund_id": f"re_{done.pk}", "amount": 2500, "failure_reason": ""}
    assert (succeeded.cause, succeeded.cause_reference) == ("system", f"refund:{done.pk}")
    long = order_refund(
        order_id=order.pk, amount=100, reason=long_reason, cause=Cause.system("t"), request_key="long",
        gateway=StubGateway("pending"),
    )  # fmt: skip
    assert long.reason == long_reason[:255]
    assert order.events.filter(type="refund.requested").last().data["reason"] == long_reason[:255]
    # a pending answer is not an outcome yet
    assert not order.events.filter(type="refund.pending").exists()


@pytest.mark.django_db
def test_a_refund_stripe_refuses_is_failed_with_its_reason_and_frees_the_amount():
    order, payment = make_paid_order()
    failed = refund(order, 4000, "k", "refused")
    assert (failed.status, failed.refund_id) == ("failed", None)
    assert failed.failure_reason == ("Stripe says no: " + "x" * 300)[:255]
    event = order.events.get(type="refund.failed")
    assert event.data == {"refund_id": f"payops-{failed.pk}", "amount": 4000, "failure_reason": failed.failure_reason}
    assert refundable_amount(payment) == PAID
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db
def test_the_same_request_twice_is_one_refund():
    order, _payment = make_paid_order()
    first = refund(order, 6000, "same")
    again = refund(order, 6000, "same")
    assert again.pk == first.pk
    assert Refund.objects.count() == 1
    assert order.events.filter(type="refund.requested").count() == 1


# --- the sweep that submits refunds Stripe never heard of ------------------------------------------


@pytest.mark.django_db
def test_the_sweep_takes_requested_refunds_older_than_its_cut_off_only():
    _order, payment = make_paid_order()
    now = timezone.now()

    def requested(age_seconds, status="requested"):
        row = Refund.objects.create(payment=payment, amount=1, currency="JPY", status=status)
        Refund.objects.filter(pk=row.pk).update(created_at=now - dt.timedelta(seconds=age_seconds))
        return row.pk

    old = requested(60.5)
    requested(59.5)  # a refund whose own request may still be talking to Stripe
    requested(3600, status="pending")  # Stripe has it
    requested(3600, status="failed")
    assert refunds_awaiting_submission() == [old]
    assert refunds_awaiting_submission(older_than_seconds=10) == sorted(
        refunds_awaiting_submission(older_than_seconds=10)
    )
    assert len(refunds_awaiting_submission(older_than_seconds=10)) == 2


@pytest.mark.django_db
def test_the_sweep_takes_at_most_200_at_a_time():
    _order, payment = make_paid_order()
    Refund.objects.bulk_create(Refund(payment=payment, amount=1, currency="JPY") for _ in range(201))
    Refund.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert len(refunds_awaiting_submission()) == 200


# --- concurrent staff on PostgreSQL --------------------------------------------------------------------


def _at_once(count, action):
    barrier = threading.Barrier(count)
    outcomes = []

    def run(n):
        try:
            barrier.wait()
            outcomes.append(action(n))
        except ActionNotAllowed:
            outcomes.append("refused")
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stripe_answers", ["unavailable", "pending", "requires_action"])
def test_simultaneous_refunds_never_exceed_what_was_paid(stripe_answers):
    # given a paid order, and refunds Stripe leaves in flight
    order, payment = make_paid_order()
    # when four members of staff each refund 3,000 at the same moment
    outcomes = _at_once(4, lambda n: refund(order, 3000, f"staff-{n}", stripe_answers).amount)
    # then three get through and the fourth is refused: 9,000 out, never 12,000
    assert sorted(outcomes, key=str) == [3000, 3000, 3000, "refused"]
    assert money_out(payment) == 9000
    assert refundable_amount(Payment.objects.get(pk=payment.pk)) == 1000


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_full_refunds_refund_once():
    order, payment = make_paid_order()
    outcomes = _at_once(3, lambda n: refund(order, None, f"full-{n}", "pending").amount)
    assert sorted(outcomes, key=str) == [PAID, "refused", "refused"]
    assert money_out(payment) == PAID
