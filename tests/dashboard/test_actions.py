"""Each action through the dashboard: asked to confirm first, then its effect, the audit event
with the staff user, and a second submit of the same form that changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from orders.models import OrderEvent, Product, Refund, Shipment
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from tests.dashboard.conftest import key
from tests.factories import make_order, make_payment, make_product
from tests.stripe_events import intent_object, stripe_event
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db


def act(client, url, data, *, confirm=True, request_key=None):
    payload = {**data, "request_key": request_key or key()}
    if confirm:
        payload["confirm"] = "on"
    return client.post(url, payload)


def messages_of(client, response):
    return [str(m) for m in response.wsgi_request._messages]


def staff_events(order, type):
    return list(OrderEvent.objects.filter(order=order, type=type))


def test_the_first_post_asks_to_confirm_and_changes_nothing(as_user, paid_order, stripe):
    client = as_user("refund")
    response = act(
        client,
        f"/dashboard/orders/{paid_order.number}/actions/refund/",
        {"amount": "3000", "reason": "x"},
        confirm=False,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Refund ¥3,000 of order" in html and 'name="confirm"' in html
    assert not Refund.objects.exists() and not stripe.requests


def test_partial_refund_runs_once_for_a_double_submit(as_user, users, paid_order, stripe):
    client = as_user("refund")
    url = f"/dashboard/orders/{paid_order.number}/actions/refund/"
    request_key = key()
    first = act(client, url, {"amount": "3000", "reason": "damaged"}, request_key=request_key)
    assert first.status_code == 303 and first["Location"] == f"/dashboard/orders/{paid_order.number}/"
    again = act(client, url, {"amount": "3000", "reason": "damaged"}, request_key=request_key)
    assert again.status_code == 303
    assert "already done" in " ".join(messages_of(client, again))
    (refund,) = Refund.objects.all()
    assert (refund.amount, refund.status, refund.requested_by) == (3000, "succeeded", users["refund"])
    assert len(stripe.requests_to("/v1/refunds")) == 1
    paid_order.refresh_from_db()
    assert paid_order.status == "partially_refunded"
    (audit,) = staff_events(paid_order, "refund.requested")
    assert audit.staff_user == users["refund"] and audit.cause == "staff" and audit.data["amount"] == 3000


def test_refund_over_the_refundable_amount_is_refused_with_the_reason(as_user, paid_order, stripe):
    client = as_user("refund")
    url = f"/dashboard/orders/{paid_order.number}/actions/refund/"
    act(client, url, {"amount": "8000", "reason": "part"})
    response = act(client, url, {"amount": "2001", "reason": "too much"})
    # The form knows what is refundable (issue 14.9); the service refuses the same in a race.
    assert response.status_code == 400
    assert "At most ¥2,000 can still be refunded on this order." in response.content.decode()
    assert Refund.objects.count() == 1


def test_a_refund_form_with_a_bad_amount_is_shown_again_with_the_error(as_user, paid_order, stripe):
    response = act(
        as_user("refund"), f"/dashboard/orders/{paid_order.number}/actions/refund/", {"amount": "12.5", "reason": "x"}
    )
    assert response.status_code == 400
    assert "decimal places" in response.content.decode()
    assert not Refund.objects.exists()


def test_cancel_releases_stock_cancels_the_intent_and_is_idempotent(as_user, users, unpaid_order, stripe):
    client = as_user("operate")
    product = unpaid_order.lines.get().product
    reserved = Product.objects.get(pk=product.pk).stock_reserved
    url = f"/dashboard/orders/{unpaid_order.number}/actions/cancel/"
    request_key = key()
    assert act(client, url, {"reason": "customer asked"}, request_key=request_key).status_code == 303
    again = act(client, url, {"reason": "customer asked"}, request_key=request_key)
    assert again.status_code == 303 and "already done" in " ".join(messages_of(client, again))
    unpaid_order.refresh_from_db()
    assert unpaid_order.status == "cancelled"
    assert Product.objects.get(pk=product.pk).stock_reserved == reserved - 1
    assert [r.path for r in stripe.requests] == ["/v1/payment_intents/pi_unpaid_1/cancel"]
    (event,) = staff_events(unpaid_order, "order.cancelled")
    assert event.staff_user == users["operate"] and event.data["reason"] == "customer asked"


def test_cancel_of_a_paid_order_is_refused_with_a_clear_message(as_user, paid_order, stripe):
    response = act(as_user("operate"), f"/dashboard/orders/{paid_order.number}/actions/cancel/", {"reason": ""})
    assert response.status_code == 409
    assert "cannot be cancelled. Refund it instead." in response.content.decode()
    assert not stripe.requests


def test_approve_moves_the_order_on_once(as_user, users):
    order = make_order(status="awaiting_approval")
    client = as_user("operate")
    url = f"/dashboard/orders/{order.number}/actions/approve/"
    request_key = key()
    act(client, url, {"note": "checked the address"}, request_key=request_key)
    again = act(client, url, {"note": "checked the address"}, request_key=request_key)
    assert "already done" in " ".join(messages_of(client, again))
    order.refresh_from_db()
    assert order.status == "fulfilling"
    (event,) = staff_events(order, "order.fulfilling")
    assert event.staff_user == users["operate"] and event.data["note"] == "checked the address"
    refused = act(client, url, {"note": ""})
    assert refused.status_code == 409 and "is not waiting for approval" in refused.content.decode()


def test_mark_shipped_records_the_shipment_once(as_user, users):
    order = make_order(status="fulfilling")
    client = as_user("operate")
    url = f"/dashboard/orders/{order.number}/actions/ship/"
    data = {"carrier": "Yamato", "tracking_number": "4455-6677", "tracking_url": "https://track.example/4455"}
    request_key = key()
    act(client, url, data, request_key=request_key)
    act(client, url, data, request_key=request_key)
    (shipment,) = Shipment.objects.filter(order=order)
    assert (shipment.carrier, shipment.shipped_by) == ("Yamato", users["operate"])
    order.refresh_from_db()
    assert order.status == "shipped"
    assert len(staff_events(order, "order.shipped")) == 1


def test_record_outside_payment_marks_paid_once_and_refuses_a_wrong_amount(as_user, users, stripe):
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_transfer_1", method="bank_transfer", status="requires_action")
    client = as_user("operate")
    url = f"/dashboard/orders/{order.number}/actions/record_payment/"
    wrong = act(client, url, {"amount": "1000", "reference": "slip-9"})
    assert wrong.status_code == 409 and "does not match the order total" in wrong.content.decode()
    request_key = key()
    act(client, url, {"amount": "1500", "reference": "slip-9"}, request_key=request_key)
    again = act(client, url, {"amount": "1500", "reference": "slip-9"}, request_key=request_key)
    assert "already recorded" in " ".join(messages_of(client, again))
    order.refresh_from_db()
    assert order.status == "paid"
    payment = order.payments.get(method="outside")
    assert (payment.outside_source, payment.outside_reference) == ("manual", "slip-9")
    (paid,) = staff_events(order, "order.paid")
    assert paid.staff_user == users["operate"]


def test_note_is_added_once(as_user, users, paid_order):
    client = as_user("operate")
    url = f"/dashboard/orders/{paid_order.number}/actions/note/"
    request_key = key()
    act(client, url, {"text": "Customer called about delivery"}, request_key=request_key)
    act(client, url, {"text": "Customer called about delivery"}, request_key=request_key)
    (note,) = staff_events(paid_order, "staff.note")
    assert note.staff_user == users["operate"] and note.data["text"] == "Customer called about delivery"


def test_resend_mail_requeues_it_once_with_an_audit_event(as_user, users, paid_order):
    mail = Mail.objects.create(
        idempotency_key="shipped:1",
        template="shipped",
        recipient="buyer@example.com",
        language="ja",
        reference=paid_order.number,
        status="unconfirmed",
    )
    client = as_user("operate")
    request_key = key()
    back = f"/dashboard/orders/{paid_order.number}/"
    first = act(client, "/dashboard/operations/mail_resend/", {"ids": mail.pk, "next": back}, request_key=request_key)
    assert first.status_code == 303 and first["Location"] == back
    act(client, "/dashboard/operations/mail_resend/", {"ids": mail.pk}, request_key=request_key)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("pending", 0)
    (audit,) = staff_events(paid_order, "staff.mail_resent")
    assert audit.staff_user == users["operate"] and audit.data["mail_id"] == mail.pk
    refused = act(client, "/dashboard/operations/mail_resend/", {"ids": mail.pk})
    assert refused.status_code == 409 and "only failed or unconfirmed" in refused.content.decode()


def test_retry_dead_outbox_event_once_with_an_audit_event(as_user, users, paid_order):
    row = OutboxEvent.objects.create(
        source="payops.orders",
        detail_type="order.paid",
        detail={"order": paid_order.number},
        aggregate=paid_order.number,
        sequence=1,
        status="dead",
        attempts=10,
        last_error="AccessDenied",
    )
    client = as_user("operate")
    request_key = key()
    act(client, "/dashboard/operations/outbox_retry/", {"ids": row.pk}, request_key=request_key)
    again = act(client, "/dashboard/operations/outbox_retry/", {"ids": row.pk}, request_key=request_key)
    assert "already done" in " ".join(messages_of(client, again))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    (audit,) = staff_events(paid_order, "staff.outbox_retried")
    assert audit.staff_user == users["operate"] and audit.data["outbox_ids"] == [row.pk]


def test_replay_a_failed_webhook_applies_it_and_is_audited_once(as_user, users, unpaid_order, monkeypatch):
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object("pi_unpaid_1", status="succeeded", amount=1500, order_id=unpaid_order.pk),
    )
    row = InboxEvent.objects.create(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        event_created=event["created"],
        payload=event,
        status="failed",
        attempts=8,
        last_error="OperationalError: database was locked",
        order_id=unpaid_order.pk,  # named by the failed processing (webhooks/services/processing.py)
    )
    client = as_user("operate")
    request_key = key()
    act(client, "/dashboard/operations/webhook_replay/", {"ids": row.pk}, request_key=request_key)
    again = act(client, "/dashboard/operations/webhook_replay/", {"ids": row.pk}, request_key=request_key)
    assert "already done" in " ".join(messages_of(client, again))
    row.refresh_from_db()
    unpaid_order.refresh_from_db()
    assert (row.status, row.attempts) == ("processed", 1)
    assert unpaid_order.status == "paid"
    (audit,) = staff_events(unpaid_order, "staff.webhook_replayed")
    assert audit.staff_user == users["operate"] and audit.data["inbox_ids"] == [row.pk]


def test_replay_many_from_the_inbox_page(as_user):
    rows = [
        InboxEvent.objects.create(
            provider="stripe",
            event_id=f"evt_many_{n}",
            type="charge.succeeded",
            status="failed",
            payload={"id": f"evt_many_{n}", "type": "charge.succeeded", "created": 1, "data": {"object": {}}},
        )
        for n in range(3)
    ]
    response = act(as_user("operate"), "/dashboard/operations/webhook_replay/", {"ids": [r.pk for r in rows]})
    assert response.status_code == 303
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"ignored"}


def test_stock_adjustment_is_logged_once_and_cannot_go_below_reserved(as_user, users):
    product = make_product(sku="TEA-1", stock_on_hand=10)
    Product.objects.filter(pk=product.pk).update(stock_reserved=4)
    client = as_user("operate")
    url = f"/dashboard/catalogue/{product.pk}/stock/"
    request_key = key()
    act(client, url, {"delta": "-3", "reason": "damaged in storage"}, request_key=request_key)
    act(client, url, {"delta": "-3", "reason": "damaged in storage"}, request_key=request_key)
    assert Product.objects.get(pk=product.pk).stock_on_hand == 7
    (entry,) = LogEntry.objects.filter(object_id=str(product.pk))
    assert entry.user == users["operate"] and "10 → 7 (-3): damaged in storage" in entry.change_message
    refused = act(client, url, {"delta": "-4", "reason": "recount"})
    assert refused.status_code == 409 and "4 units reserved" in refused.content.decode()
    page = client.get("/dashboard/catalogue/").content.decode()
    assert "damaged in storage" in page and "low-stock" in page


@pytest.mark.parametrize("delta", ["²", "-²", "3.5", "", "9" * 30])
def test_a_stock_change_that_is_not_a_whole_number_is_shown_again_with_the_error(as_user, delta):
    # "²".isdigit() is True but int("²") raises: the change is validated by the form, not guessed at.
    product = make_product(sku="TEA-2", stock_on_hand=10)
    for confirm in (False, True):
        response = act(
            as_user("operate"),
            f"/dashboard/catalogue/{product.pk}/stock/",
            {"delta": delta, "reason": "recount"},
            confirm=confirm,
        )
        assert response.status_code == 400, delta
        assert 'name="delta"' in response.content.decode()
    assert Product.objects.get(pk=product.pk).stock_on_hand == 10
    assert not LogEntry.objects.filter(object_id=str(product.pk)).exists()
