"""Any arrival order of one order's Stripe events, with redeliveries, ends where the in-order
stream ends: the same order and payment state, and each fact recorded exactly once.

The same holds when events of one object share a ``created`` second (Stripe's resolution), and
when workers overlap: one prepares its event (the Stripe read outside the lock) before another
worker's event is applied, then applies its own (issue 13.1)."""

import time

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import Dispute, Order, Payment, Product
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action, payment_intent_json
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks.handlers import StripeEvent, stripe_handle, stripe_prepare

T0 = int(time.time()) - 10_000
AMOUNT = 6000


def _intent(status, created, **overrides):
    return intent_object(
        "pi_prop", status=status, amount=AMOUNT, payment_method_types=["customer_balance"], **overrides
    )


def _dispute(status):
    return {
        "id": "dp_prop",
        "object": "dispute",
        "payment_intent": "pi_prop",
        "amount": AMOUNT,
        "currency": "jpy",
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": T0 + 99_999},
    }


# A bank-transfer order's life as Stripe reports it, in the order it happened.
STREAM = [
    stripe_event(
        "payment_intent.requires_action",
        _intent("requires_action", T0, next_action=bank_transfer_next_action(AMOUNT)),
        created=T0,
        event_id="evt_p1",
    ),
    stripe_event(
        "payment_intent.partially_funded",
        _intent("requires_action", T0, next_action=bank_transfer_next_action(2500)),
        created=T0 + 10,
        event_id="evt_p2",
    ),
    stripe_event("payment_intent.succeeded", _intent("succeeded", T0), created=T0 + 20, event_id="evt_p3"),
    stripe_event(
        "review.opened",
        {"id": "prv_prop", "object": "review", "payment_intent": "pi_prop", "open": True, "reason": "rule"},
        created=T0 + 25,
        event_id="evt_p4",
    ),
    stripe_event(
        "charge.refunded",
        {"id": "ch_prop", "object": "charge", "payment_intent": "pi_prop", "amount_refunded": 2000},
        created=T0 + 30,
        event_id="evt_p5",
    ),
    stripe_event("charge.dispute.created", _dispute("needs_response"), created=T0 + 40, event_id="evt_p6"),
    stripe_event(
        "review.closed",
        {"id": "prv_prop", "object": "review", "payment_intent": "pi_prop", "open": False, "reason": "approved"},
        created=T0 + 45,
        event_id="evt_p7",
    ),
    stripe_event("charge.dispute.closed", _dispute("won"), created=T0 + 50, event_id="evt_p8"),
]


# The same life with collisions: funded twice in one second (partially, then fully), two
# refunds reported in one second, a review and a dispute opened and closed within a second.
SAME_SECOND_STREAM = [
    STREAM[0],
    {**STREAM[1], "id": "evt_s2", "created": T0 + 10},
    {**STREAM[2], "id": "evt_s3", "created": T0 + 10},
    {**STREAM[3], "id": "evt_s4", "created": T0 + 45},
    stripe_event(
        "charge.refunded",
        {"id": "ch_prop", "object": "charge", "payment_intent": "pi_prop", "amount_refunded": 500},
        created=T0 + 30,
        event_id="evt_s5a",
    ),
    {**STREAM[4], "id": "evt_s5", "created": T0 + 30},
    {**STREAM[5], "id": "evt_s6", "created": T0 + 50},
    {**STREAM[6], "id": "evt_s7", "created": T0 + 45},
    {**STREAM[7], "id": "evt_s8", "created": T0 + 50},
]


def _stripe_now(request):
    """Stripe's PaymentIntent as it is after the whole stream (read to settle a same-second tie)."""
    assert request.path == "/v1/payment_intents/pi_prop"
    return 200, payment_intent_json(
        id="pi_prop",
        amount=AMOUNT,
        amount_received=AMOUNT,
        status="succeeded",
        payment_method_types=["customer_balance"],
    )


class _Rollback(Exception):
    pass


def _run_overlapping(deliveries, leads):
    """Process deliveries as overlapping workers would: delivery i is prepared (outside the
    lock) before the ``leads[i]`` deliveries ahead of it are applied, then applied in turn."""
    prepared = {}
    for position in range(len(deliveries) + 1):
        for i, event in enumerate(deliveries):
            if i >= position and max(i - leads[i], 0) == position and i not in prepared:
                prepared[i] = stripe_prepare(StripeEvent.from_payload(event))
        if position < len(deliveries):
            with transaction.atomic():
                stripe_handle(prepared.pop(position))


def _outcome_of(deliveries, leads=None):
    """Run deliveries against a fresh order and return what they left, then roll it all back."""
    result = {}
    try:
        with transaction.atomic():
            product = make_product(price_amount=AMOUNT, stock_on_hand=3)
            order = make_order(status="awaiting_payment", product=product)
            make_payment(order, intent_id="pi_prop", method="bank_transfer", status="requires_action", amount=AMOUNT)
            if leads is None:
                for event in deliveries:
                    row = deliver(event)
                    assert row.status in ("processed", "ignored"), row.last_error
            else:
                _run_overlapping(deliveries, leads)
            order = Order.objects.get(pk=order.pk)
            payment = Payment.objects.get(order=order)
            # A fact is attributed to the event that revealed it first (a dispute can become known
            # from its "closed" event), so facts compare by what they say, not by their cause.
            facts = list(order.events.exclude(type__startswith="order.").values_list("type", "data"))
            facts = [(kind, sorted(data.items())) for kind, data in facts]
            result = {
                "status": order.status,
                "payment": (
                    payment.status,
                    payment.amount_received,
                    payment.amount_remaining,
                    payment.amount_refunded,
                    payment.review_open,
                ),
                "disputes": list(Dispute.objects.values_list("status", flat=True)),
                "stock": Product.objects.get(pk=product.pk).stock_available,
                "facts": sorted(facts),
                "facts_unique": len({repr(f) for f in facts}) == len(facts),
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


@pytest.fixture(scope="module")
def in_order(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return _outcome_of(STREAM)


@pytest.mark.django_db
def test_in_order_stream_ends_as_expected(in_order):
    assert in_order["status"] == "partially_refunded"
    assert in_order["payment"] == ("succeeded", AMOUNT, None, 2000, False)
    assert in_order["disputes"] == ["won"]
    assert in_order["facts_unique"]
    assert sorted(t for t, _ in in_order["facts"]) == sorted(
        [
            "dispute.closed",
            "dispute.opened",
            "payment.partially_funded",
            "payment.review_closed",
            "payment.review_opened",
        ]
    )


@pytest.mark.django_db
def test_same_second_stream_in_order_ends_as_the_spaced_one(in_order, fake_stripe):
    fake_stripe.responder = _stripe_now
    # One more charge.refunded (a smaller total reported first) changes no outcome.
    assert _outcome_of(SAME_SECOND_STREAM) == in_order


@st.composite
def shuffled_with_redeliveries(draw, stream=STREAM):
    order = draw(st.permutations(stream))
    deliveries = list(order)
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        event = draw(st.sampled_from(stream))
        deliveries.insert(draw(st.integers(min_value=0, max_value=len(deliveries))), event)
    return deliveries


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=shuffled_with_redeliveries())
def test_any_arrival_order_with_redeliveries_ends_the_same(in_order, deliveries):
    assert _outcome_of(deliveries) == in_order


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=shuffled_with_redeliveries(stream=SAME_SECOND_STREAM))
def test_same_second_events_in_any_arrival_order_end_the_same(in_order, fake_stripe, deliveries):
    fake_stripe.responder = _stripe_now
    assert _outcome_of(deliveries) == in_order


@st.composite
def overlapping_workers(draw):
    deliveries = draw(shuffled_with_redeliveries(stream=SAME_SECOND_STREAM))
    leads = draw(st.lists(st.integers(min_value=0, max_value=3), min_size=len(deliveries), max_size=len(deliveries)))
    return deliveries, leads


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run=overlapping_workers())
def test_overlapping_workers_end_the_same(in_order, fake_stripe, run):
    fake_stripe.responder = _stripe_now
    deliveries, leads = run
    assert _outcome_of(deliveries, leads) == in_order
