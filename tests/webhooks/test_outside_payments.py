import json
import time

import pytest

from orders.models import Payment
from orders.services.order_events import Cause
from orders.services.outside_payments import OutsidePaymentRefused, order_record_outside_payment
from tests.factories import make_order, make_payment
from webhooks.models import InboxEvent
from webhooks.services.receive import outside_signature

pytestmark = pytest.mark.django_db

SECRET = "bank-secret-1"


@pytest.fixture(autouse=True)
def sources(settings):
    settings.PAYOPS_OUTSIDE_PAYMENT_SECRETS = {"mybank": SECRET}


@pytest.fixture
def order():
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_voucher", method="konbini", status="requires_action")
    return order


def post(client, payload, *, source="mybank", secret=SECRET, timestamp=None, signature=None):
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    signature = signature or outside_signature(secret=secret, body=body, timestamp=timestamp)
    return client.post(
        f"/webhooks/payments/{source}/",
        body,
        content_type="application/json",
        HTTP_PAYOPS_TIMESTAMP=timestamp,
        HTTP_PAYOPS_SIGNATURE=signature,
    )


def payment_body(order, **overrides):
    return {"id": "dep-001", "order_number": order.number, "amount": order.total_amount, "currency": "JPY", **overrides}


def test_signed_deposit_marks_the_order_paid_and_cancels_the_voucher(
    client, order, fake_stripe, django_capture_on_commit_callbacks
):
    fake_stripe.responder = lambda r: (
        200,
        {
            "id": "pi_voucher",
            "object": "payment_intent",
            "status": "canceled",
            "amount": order.total_amount,
            "currency": "jpy",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payment_body(order))
    assert response.status_code == 200
    row = InboxEvent.objects.get()
    assert (row.provider, row.event_id, row.status) == ("outside:mybank", "dep-001", "processed")
    order.refresh_from_db()
    assert order.status == "paid"
    outside = Payment.objects.get(order=order, method="outside")
    assert (outside.outside_source, outside.outside_reference, outside.amount_received) == (
        "mybank",
        "dep-001",
        order.total_amount,
    )
    assert order.events.get(type="order.paid").cause == "outside_payment"
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents/pi_voucher/cancel"]
    assert Payment.objects.get(intent_id="pi_voucher").status == "canceled"


def test_redelivery_is_a_no_op(client, order, fake_stripe, django_capture_on_commit_callbacks):
    fake_stripe.responder = lambda r: (
        200,
        {"id": "pi_voucher", "object": "payment_intent", "status": "canceled", "amount": 1, "currency": "jpy"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payment_body(order))
        response = post(client, payment_body(order))
    assert response.json()["duplicate"] is True
    assert Payment.objects.filter(method="outside").count() == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount": 1}, "does not match the order total"),
        ({"currency": "USD"}, "does not match the order's JPY"),
        ({"currency": "XYZ"}, "invalid amount"),
        ({"order_number": "PO-NOPE-NOPE"}, "no order numbered"),
    ],
)
def test_mismatches_are_stored_failed_with_the_reason_and_the_order_untouched(
    client, order, django_capture_on_commit_callbacks, overrides, reason
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payment_body(order, **overrides))
    assert response.status_code == 200  # stored safely; a person looks at it
    row = InboxEvent.objects.get()
    assert row.status == "failed"
    assert reason in row.last_error
    assert row.next_attempt_at is None  # retrying cannot help
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert not Payment.objects.filter(method="outside").exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong"},
        {"signature": "v1=deadbeef"},
        {"timestamp": "12345"},
        {"timestamp": "soon"},
    ],
)
def test_bad_signatures_are_400_and_store_nothing(client, order, kwargs):
    response = post(client, payment_body(order), **kwargs)
    assert response.status_code == 400
    assert not InboxEvent.objects.exists()


def test_tampered_body_is_400(client, order):
    body = json.dumps(payment_body(order)).encode()
    timestamp = str(int(time.time()))
    signature = outside_signature(secret=SECRET, body=body, timestamp=timestamp)
    response = post(client, body.replace(b"dep-001", b"dep-002"), timestamp=timestamp, signature=signature)
    assert response.status_code == 400


def test_unknown_source_is_404(client, order):
    assert post(client, payment_body(order), source="otherbank").status_code == 404


@pytest.mark.parametrize(
    "payload", [b"nope", b"[]", {"id": "x"}, {"id": "x", "order_number": "y", "amount": "100", "currency": "JPY"}]
)
def test_malformed_payloads_are_400(client, order, payload):
    assert post(client, payload).status_code == 400
    assert not InboxEvent.objects.exists()


def test_staff_records_a_payment_by_hand(order, django_user_model, fake_stripe):
    fake_stripe.responder = lambda r: (
        200,
        {"id": "pi_voucher", "object": "payment_intent", "status": "canceled", "amount": 1, "currency": "jpy"},
    )
    staff = django_user_model.objects.create_user("clerk")
    outcome = order_record_outside_payment(
        order_number=order.number,
        amount=order.total_amount,
        currency="JPY",
        source="manual",
        reference="receipt-42",
        cause=Cause.staff(staff),
    )
    assert outcome.applied
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.events.get(type="order.paid").staff_user == staff
    with pytest.raises(OutsidePaymentRefused, match="is paid"):
        order_record_outside_payment(
            order_number=order.number,
            amount=order.total_amount,
            currency="JPY",
            source="manual",
            reference="receipt-43",
            cause=Cause.staff(staff),
        )
