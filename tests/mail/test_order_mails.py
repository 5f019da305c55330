"""Which order events mean which mail (rows only; sending is tested in test_send.py)."""

import pytest
from django.db import transaction

from orders.services.fulfilment import order_mark_shipped, order_note, order_start_fulfilment
from orders.services.order_events import Cause, record_order_event
from orders.services.transitions import (
    lock_order,
    order_expire,
    order_mark_awaiting_payment,
    order_mark_needs_attention,
    order_mark_paid,
    order_mark_payment_failed,
    order_mark_refunded,
)
from payops.mail.models import Mail
from payops.mail.rendering import render_mail
from payops.outbox.models import OutboxEvent
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import konbini_next_action

pytestmark = pytest.mark.django_db

CAUSE = Cause.system("test")


def mails(order):
    return list(Mail.objects.filter(reference=order.number).order_by("pk").values_list("template", flat=True))


def awaiting_konbini(locale="ja"):
    order = make_order(product=make_product(price_amount=5000), locale=locale)
    make_payment(order, method="konbini", status="requires_action", next_action=konbini_next_action(1_800_000_000))
    order_mark_awaiting_payment(order_id=order.pk, cause=CAUSE)
    return order


def paid_card():
    order = make_order(product=make_product(price_amount=5000), locale="en")
    make_payment(order, method="card", status="succeeded")
    return order_mark_paid(order_id=order.pk, cause=CAUSE, data={"amount_received": 5000})


def test_a_card_waiting_for_3d_secure_gets_no_mail_and_a_decline_at_checkout_neither():
    order = make_order()
    make_payment(order, method="card", status="requires_action")
    order_mark_awaiting_payment(order_id=order.pk, cause=CAUSE)
    order_mark_payment_failed(order_id=order.pk, cause=CAUSE, reason_code="card_declined", reason_message="Declined")
    assert mails(order) == []
    # ...but both events are published
    assert list(OutboxEvent.objects.values_list("detail_type", flat=True)) == [
        "order.awaiting_payment",
        "order.payment_failed",
    ]


def test_a_confirmed_order_whose_payment_fails_or_expires_is_told_so():
    failed = awaiting_konbini()
    order_mark_payment_failed(order_id=failed.pk, cause=CAUSE, reason_code="x", reason_message="Store refused")
    expired = awaiting_konbini()
    order_expire(order_id=expired.pk, cause=CAUSE)

    assert mails(failed) == ["order_received", "payment_failed"]
    assert Mail.objects.get(template="payment_failed").context["failure_code"] == "x"  # worded when rendered
    assert mails(expired) == ["order_received", "payment_expired"]


def test_a_refund_mails_its_own_amount_once_and_the_status_change_adds_nothing():
    order = paid_card()
    with transaction.atomic():
        record_order_event(
            order=lock_order(order.pk), type="refund.succeeded", cause=CAUSE, data={"refund_id": "re_1", "amount": 2000}
        )
    order_mark_refunded(order_id=order.pk, cause=CAUSE, data={"amount_refunded": 2000}, partial=True)

    assert mails(order) == ["order_received", "refund_issued"]
    refund_mail = Mail.objects.get(template="refund_issued")
    assert refund_mail.idempotency_key == f"order:{order.number}:refund_issued:re_1"
    assert refund_mail.context["refund"] == {"amount": 2000, "currency": "JPY"}
    assert refund_mail.context["full_refund"] is False


def test_shipping_mails_carrier_and_tracking():
    order = paid_card()
    order_start_fulfilment(order_id=order.pk, cause=CAUSE)
    order_mark_shipped(
        order_id=order.pk,
        cause=CAUSE,
        carrier="Yamato",
        tracking_number="1234-5678",
        tracking_url="https://t.example/1",
    )

    assert mails(order) == ["order_received", "shipped"]
    rendered = render_mail(template="shipped", language="en", context=Mail.objects.get(template="shipped").context)
    assert rendered.subject == f"Your order {order.number} has shipped"
    assert "Carrier: Yamato" in rendered.text and "Tracking number: 1234-5678" in rendered.text


def test_an_order_that_needs_attention_gets_the_apology():
    order = paid_card()
    order_mark_needs_attention(order_id=order.pk, cause=CAUSE, reason="workflow_failed")
    assert mails(order) == ["order_received", "apology"]
    rendered = render_mail(template="apology", language="ja", context=Mail.objects.get(template="apology").context)
    assert rendered.subject == f"ご注文についてのお詫び（{order.number}）"


def test_staff_notes_stay_inside_payops():
    order = paid_card()
    order_note(order_id=order.pk, cause=CAUSE, text="customer called, very angry")
    assert "staff.note" not in set(OutboxEvent.objects.values_list("detail_type", flat=True))


def test_event_data_outside_the_public_fields_is_not_published():
    order = awaiting_konbini()
    with transaction.atomic():
        record_order_event(
            order=lock_order(order.pk),
            type="payment.partially_funded",
            cause=CAUSE,
            data={"amount_remaining": 100, "client_secret": "pi_x_secret_y", "note": {"nested": True}},
        )
    row = OutboxEvent.objects.get(detail_type="payment.partially_funded")
    assert row.detail["data"] == {"amount_remaining": 100}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize(
    ("template", "extra"),
    [
        ("order_received", {"paid": True, "amount_received": {"amount": 3200, "currency": "JPY"}}),
        ("payment_received", {"amount_received": {"amount": 3200, "currency": "JPY"}}),
        ("shipped", {"carrier": "Sagawa", "tracking_number": "99", "tracking_url": ""}),
        ("refund_issued", {"refund": {"amount": 3200, "currency": "JPY"}, "full_refund": True}),
        ("payment_failed", {"reason": "Your card was declined."}),
        ("payment_expired", {}),
        ("apology", {"reason": "workflow_failed"}),
    ],
)
def test_every_template_renders_in_both_languages(template, extra, language):
    context = {
        "order_number": "PO-ABCD-EFGH",
        "status_url": "https://shop.example/orders/t/",
        "total": {"amount": 3200, "currency": "JPY"},
        "lines": [{"name": "Sencha", "quantity": 2, "unit_price_amount": 1600}],
        **extra,
    }
    rendered = render_mail(template=template, language=language, context=context)
    assert "PO-ABCD-EFGH" in rendered.subject and "\n" not in rendered.subject
    assert ("3,200円" if language == "ja" else "¥3,200") in rendered.text
    assert "https://shop.example/orders/t/" in rendered.text
    assert 'href="https://shop.example/orders/t/"' in rendered.html
    assert "None" not in rendered.text
