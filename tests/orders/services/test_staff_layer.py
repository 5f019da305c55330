"""The staff layer runs each request once, whichever edge it came from: the reference (the
form's key, or the API's Idempotency-Key as ``api:…``) is recognised in the order's own event
log, sequentially and — on PostgreSQL — when two arrive at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from orders.models import OrderEvent, Shipment
from orders.services.staff_actions import StaffRequest, staff_cancel, staff_mark_shipped, staff_note
from tests.api.fixtures import make_staff
from tests.dashboard.conftest import stripe_answers
from tests.factories import make_order, make_payment
from tests.markers import requires_postgres


def audits(order, type):
    return OrderEvent.objects.filter(order=order, type=type).count()


@pytest.mark.django_db
@pytest.mark.parametrize("reference", ["form:" + "b" * 32, "api:" + "c" * 48])
def test_the_same_reference_twice_is_one_action(reference, fake_stripe):
    fake_stripe.responder = stripe_answers
    request = StaffRequest(make_staff("operator", "operate"), reference, via="test")
    unpaid = make_order(status="awaiting_payment")
    make_payment(unpaid, intent_id="pi_twice", method="konbini", status="requires_action")
    fulfilling = make_order(status="fulfilling")

    first = staff_cancel(request, order_id=unpaid.pk, reason="asked")
    again = staff_cancel(request, order_id=unpaid.pk, reason="asked")
    shipped = staff_mark_shipped(
        request, order_id=fulfilling.pk, carrier="Yamato", tracking_number="1", tracking_url=""
    )
    reshipped = staff_mark_shipped(
        request, order_id=fulfilling.pk, carrier="Sagawa", tracking_number="2", tracking_url=""
    )

    assert (first.repeated, again.repeated, shipped.repeated, reshipped.repeated) == (False, True, False, True)
    assert len(fake_stripe.requests_to("/v1/payment_intents/pi_twice/cancel")) == 1
    assert audits(unpaid, "staff.order_cancelled") == 1
    assert audits(fulfilling, "staff.shipment_recorded") == 1
    assert list(Shipment.objects.filter(order=fulfilling).values_list("carrier", flat=True)) == ["Yamato"]


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_request_at_the_same_moment_write_one_note():
    order = make_order(status="paid")
    request = StaffRequest(make_staff("operator", "operate"), "api:" + "d" * 48, via="test")
    start = threading.Barrier(4)
    outcomes, errors = [], []

    def submit():
        try:
            start.wait(10)
            outcomes.append(staff_note(request, order_id=order.pk, text="called the customer"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    assert sorted(outcome.repeated for outcome in outcomes) == [False, True, True, True]
    assert audits(order, "staff.note") == 1
