"""Money completes an order only when it is the order's money (issue 13.4), and money taken twice
is seen (issue 13.3).

* A ``payment_intent.succeeded`` completes an order only in the order's currency and when what was
  received covers the total; otherwise the order goes to a person with the reason, and no
  "payment received" mail goes out.
* An intent payops does not know by id is tied to an order only by Stripe's own copy of it,
  matched to the order's payment: metadata naming an order (ids are sequential) is not enough.
* A payment that succeeds on an order already paid moves it to a person with the surplus, raises
  an alert event, and the surplus payment is the one offered for refund.
"""

import time
import uuid

import pytest

from orders.models import Order
from orders.selectors import allowed_staff_actions, refundable_amount, refundable_payment
from orders.services.order_events import Cause
from orders.services.outside_payments import order_record_outside_payment
from payops.mail.models import Mail, MailTemplate
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import konbini_next_action, payment_intent_json
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 1000
TOTAL = 3200


@pytest.fixture
def konbini_order():
    order = make_order(status="awaiting_payment", product=make_product(price_amount=TOTAL, stock_on_hand=4))
    payment = make_payment(order, intent_id="pi_chk", method="konbini", status="requires_action", amount=TOTAL)
    return order, payment


def succeeded(intent_id="pi_chk", *, amount=TOTAL, created=T0, **overrides):
    obj = intent_object(intent_id, status="succeeded", amount=amount, **overrides)
    return stripe_event("payment_intent.succeeded", obj, created=created)


def _needs_attention_reason(order):
    order.refresh_from_db()
    assert order.status == "needs_attention"
    return order.events.get(type="order.needs_attention").data


def _no_paid_mail(order):
    assert not order.events.filter(type="order.paid").exists()
    assert not Mail.objects.filter(reference=order.number, template=MailTemplate.PAYMENT_RECEIVED).exists()


# --- amount and currency (13.4) ------------------------------------------------------------------


def test_an_intent_that_received_one_yen_does_not_pay_a_3200_yen_order(konbini_order):
    order, payment = konbini_order
    row = deliver(succeeded(amount_received=1))
    assert row.status == "processed"
    data = _needs_attention_reason(order)
    assert (data["reason"], data["amount_received"], data["amount_due"]) == ("amount_short", 1, TOTAL)
    _no_paid_mail(order)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_received) == ("succeeded", 1)


def test_an_intent_in_another_currency_does_not_pay_a_yen_order(konbini_order):
    order, payment = konbini_order
    deliver(succeeded(currency="usd"))
    data = _needs_attention_reason(order)
    assert (data["reason"], data["currency_received"]) == ("currency_mismatch", "USD")
    _no_paid_mail(order)
    payment.refresh_from_db()
    assert payment.currency == "USD"  # the payment mirrors what Stripe holds


def test_an_intent_whose_amount_was_lowered_at_stripe_does_not_pay_the_order(konbini_order):
    order, _ = konbini_order
    deliver(succeeded(amount=100))
    assert _needs_attention_reason(order)["reason"] == "amount_short"


def test_the_full_amount_in_the_orders_currency_pays_it(konbini_order):
    order, _ = konbini_order
    deliver(succeeded())
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.events.get(type="order.paid").data["amount_received"] == TOTAL


def test_a_redelivered_short_payment_leaves_the_order_with_the_person(konbini_order):
    order, _ = konbini_order
    event = succeeded(amount_received=1)
    deliver(event)
    deliver({**event, "id": event["id"] + "_again"})
    order.refresh_from_db()
    assert order.status == "needs_attention"
    assert order.events.filter(type="order.needs_attention").count() == 1


# --- an intent not known by id (13.4) ------------------------------------------------------------


@pytest.fixture
def order_before_checkout_stored_the_intent():
    order = make_order(status="pending_payment", product=make_product(price_amount=TOTAL))
    make_payment(order, intent_id=None, status="creating", amount=TOTAL)
    return order


def _stripe_has(fake_stripe, **intent):
    fake_stripe.responder = lambda request: (200, payment_intent_json(**intent))


def _event_naming(order, intent_id="pi_new", **overrides):
    obj = intent_object(intent_id, status="succeeded", amount=TOTAL, order_id=order.pk)
    obj["metadata"]["order_number"] = order.number
    obj.update(overrides)
    return stripe_event("payment_intent.succeeded", obj, created=T0)


def test_an_intent_checkout_has_not_stored_yet_is_read_from_stripe_and_matched(
    order_before_checkout_stored_the_intent, fake_stripe
):
    order = order_before_checkout_stored_the_intent
    metadata = {"order_id": str(order.pk), "order_number": order.number}
    _stripe_has(fake_stripe, id="pi_new", amount=TOTAL, amount_received=TOTAL, status="succeeded", metadata=metadata)
    row = deliver(_event_naming(order))
    assert row.status == "processed"
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents/pi_new"]
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.payments.get().intent_id == "pi_new"


def test_metadata_naming_an_order_is_not_trusted_when_stripes_intent_does_not_match(
    order_before_checkout_stored_the_intent, fake_stripe
):
    """Someone's intent on the same account with ``order_id`` set to a sequential id."""
    order = order_before_checkout_stored_the_intent
    metadata = {"order_id": str(order.pk), "order_number": "PO-GUESS-ED00"}
    _stripe_has(fake_stripe, id="pi_other", amount=TOTAL, amount_received=TOTAL, status="succeeded", metadata=metadata)
    row = deliver(_event_naming(order, "pi_other"))
    assert row.status == "ignored"
    assert "does not belong" in row.outcome
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert order.payments.get().intent_id is None


def test_metadata_alone_is_not_enough_even_when_the_payload_looks_right(
    order_before_checkout_stored_the_intent, fake_stripe
):
    """The payload claims our order number, but Stripe's copy of the intent is for another amount."""
    order = order_before_checkout_stored_the_intent
    metadata = {"order_id": str(order.pk), "order_number": order.number}
    _stripe_has(fake_stripe, id="pi_new", amount=1, amount_received=1, status="succeeded", metadata=metadata)
    row = deliver(_event_naming(order))
    assert row.status == "ignored"
    order.refresh_from_db()
    assert order.status == "pending_payment"


# --- money taken twice (13.3) ----------------------------------------------------------------------


def test_konbini_paid_and_recorded_outside_as_well_is_an_over_payment_with_the_surplus_to_refund(konbini_order):
    """The issue's case: the shopper pays the voucher, staff records the same money as a bank
    deposit, then Stripe's ``succeeded`` arrives."""
    order, _ = konbini_order
    outcome = order_record_outside_payment(
        order_number=order.number,
        amount=TOTAL,
        currency="JPY",
        source="bank",
        reference="dep-1",
        cause=Cause.system("test"),
    )
    assert outcome.applied
    order.refresh_from_db()
    assert order.status == "paid"

    deliver(succeeded(next_action=None))

    data = _needs_attention_reason(order)
    assert (data["reason"], data["surplus"], data["amount_received"], data["amount_due"]) == (
        "over_payment",
        TOTAL,
        2 * TOTAL,
        TOTAL,
    )
    alert = order.events.get(type="payment.over_payment")
    assert (alert.data["payment_intent"], alert.data["surplus"]) == ("pi_chk", TOTAL)
    surplus_payment = refundable_payment(order)
    assert surplus_payment is not None and surplus_payment.intent_id == "pi_chk"
    assert refundable_amount(surplus_payment) == TOTAL
    assert "refund" in allowed_staff_actions(order)


def test_two_payments_of_one_order_both_succeeding_is_an_over_payment_once(konbini_order):
    order, _ = konbini_order
    make_payment(order, intent_id="pi_card", method="card", status="requires_action", amount=TOTAL)
    deliver(succeeded("pi_card", next_action=konbini_next_action(T0)))
    order.refresh_from_db()
    assert order.status == "paid"
    second = succeeded("pi_chk", created=T0 + 5)
    deliver(second)
    deliver({**second, "id": second["id"] + "_again"})
    order.refresh_from_db()
    assert order.status == "needs_attention"
    assert order.events.filter(type="payment.over_payment").count() == 1


def test_refunding_the_surplus_leaves_the_order_paid_for_not_partially_refunded(konbini_order):
    order, _ = konbini_order
    make_payment(order, intent_id="pi_card", method="card", status="requires_action", amount=TOTAL)
    deliver(succeeded("pi_card"))
    deliver(succeeded("pi_chk", created=T0 + 5))
    Order.objects.filter(pk=order.pk).update(status="paid")  # the person looked and resumed it
    charge = {"id": "ch_chk", "object": "charge", "payment_intent": "pi_chk", "amount_refunded": TOTAL}
    deliver(stripe_event("charge.refunded", charge, created=T0 + 10))
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_shipped_order_paid_twice_keeps_its_status_and_raises_the_alert(konbini_order):
    order, _payment = konbini_order
    make_payment(order, intent_id="pi_card", method="card", status="succeeded", amount=TOTAL, amount_received=TOTAL)
    Order.objects.filter(pk=order.pk).update(status="shipped")
    deliver(succeeded("pi_chk"))
    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.events.get(type="payment.over_payment").data["surplus"] == TOTAL


def test_what_is_published_about_payment_checks_follows_the_catalogue(konbini_order):
    from orders.services.order_publishing import order_event_detail
    from tests.outbox.test_catalogue import assert_valid

    order, _ = konbini_order
    make_payment(order, intent_id="pi_card", method="card", status="succeeded", amount=TOTAL, amount_received=TOTAL)
    Order.objects.filter(pk=order.pk).update(status="paid")
    deliver(succeeded("pi_chk"))
    short = make_order(status="awaiting_payment", product=make_product(price_amount=TOTAL))
    make_payment(short, intent_id="pi_short", method="konbini", status="requires_action", amount=TOTAL)
    deliver(succeeded("pi_short", currency="usd"))
    for checked in (order, short):
        checked.refresh_from_db()
        for event in checked.events.filter(type__in=["payment.over_payment", "order.needs_attention"]):
            detail = order_event_detail(order=checked, event=event, payment=checked.payments.last())
            assert_valid(event.type, {"event_id": str(uuid.uuid4()), **detail})  # the outbox adds the id


def test_an_intent_naming_an_order_that_stripe_does_not_know_is_ignored(
    order_before_checkout_stored_the_intent, fake_stripe
):
    order = order_before_checkout_stored_the_intent
    fake_stripe.responder = lambda request: (
        404,
        {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}},
    )
    row = deliver(_event_naming(order, "pi_forged"))
    assert (row.status, row.attempts) == ("ignored", 1)
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_money_recorded_outside_stripe_is_refused_when_the_order_is_already_paid_in_full(konbini_order):
    """An order a person holds after it was paid twice: recording the money a third time would
    only add to what must be given back."""
    from orders.services.outside_payments import OutsidePaymentRefused

    order, _ = konbini_order
    make_payment(order, intent_id="pi_card", method="card", status="requires_action", amount=TOTAL)
    deliver(succeeded("pi_card"))
    deliver(succeeded("pi_chk", created=T0 + 5))
    order.refresh_from_db()
    assert order.status == "needs_attention"
    with pytest.raises(OutsidePaymentRefused, match="already paid in full"):
        order_record_outside_payment(
            order_number=order.number,
            amount=TOTAL,
            currency="JPY",
            source="bank",
            reference="dep-3",
            cause=Cause.system("test"),
        )
    assert order.payments.count() == 2
