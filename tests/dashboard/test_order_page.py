"""An order's page: one timeline from every source, what the order waits for, and the actions
its state and the user's level allow."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import OperationalError

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_paid
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from tests.factories import make_order, make_payment
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks import handlers
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db


def test_the_timeline_merges_events_payments_webhooks_outbox_and_mail(as_user, unpaid_order, monkeypatch):
    deliver(
        stripe_event(
            "payment_intent.succeeded",
            intent_object("pi_unpaid_1", status="succeeded", amount=1500, order_id=unpaid_order.pk),
            event_id="evt_paid_1",
        )
    )

    # A refund event that failed to process and so caused nothing on the order yet.
    def database_gone(event):
        raise OperationalError("the database was gone")

    registered = handlers._stripe["charge.refunded"]
    monkeypatch.setitem(handlers._stripe, "charge.refunded", dataclasses.replace(registered, handle=database_gone))
    charge = {"object": "charge", "id": "ch_1", "payment_intent": "pi_unpaid_1", "amount_refunded": 1500}
    assert deliver(stripe_event("charge.refunded", charge, event_id="evt_refund_9")).status == "failed"
    OutboxEvent.objects.filter(aggregate=unpaid_order.number).update(status="dead", last_error="AccessDenied")
    Mail.objects.filter(reference=unpaid_order.number).update(status="failed", last_error="MessageRejected")
    html = as_user("operate").get(f"/dashboard/orders/{unpaid_order.number}/").content.decode()
    timeline = html.split('id="timeline"')[1].split("</ol>")[0]
    for source in ("src-event", "src-payment", "src-webhook", "src-outbox", "src-mail"):
        assert source in timeline, source
    assert "Webhook payment_intent.succeeded" in timeline and "Webhook charge.refunded" in timeline
    assert "the database was gone" in timeline and "AccessDenied" in timeline and "MessageRejected" in timeline
    assert timeline.count("/dashboard/operations/webhook_replay/") == 4  # two rows, two attributes each
    assert "/dashboard/operations/outbox_retry/" in timeline and "/dashboard/operations/mail_resend/" in timeline
    waiting = html.split('class="card waiting"')[1].split("</section>")[0]
    assert "webhook event(s) failed" in waiting and "could not be published" in waiting and "not delivered" in waiting


def test_what_an_unpaid_order_waits_for_and_which_actions_it_offers(as_user, unpaid_order):
    html = as_user("refund").get(f"/dashboard/orders/{unpaid_order.number}/").content.decode()
    assert "Payment (Konbini)" in html
    assert 'id="action-cancel"' in html and 'id="action-record_payment"' in html
    assert 'id="action-refund"' not in html and 'id="action-ship"' not in html


def test_a_viewer_sees_no_action_forms(as_user, paid_order):
    html = as_user("view").get(f"/dashboard/orders/{paid_order.number}/").content.decode()
    assert 'id="action-' not in html and "No action is possible" in html


def test_a_paid_order_offers_refund_only_to_the_refund_level(as_user, paid_order):
    assert 'id="action-refund"' in as_user("refund").get(f"/dashboard/orders/{paid_order.number}/").content.decode()
    assert (
        'id="action-refund"' not in as_user("operate").get(f"/dashboard/orders/{paid_order.number}/").content.decode()
    )


def test_staff_actions_show_who_did_them(as_user, users):
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id=None, method="bank_transfer")
    order_mark_paid(order_id=order.pk, cause=Cause.staff(users["operate"], "form:x"))
    html = as_user("view").get(f"/dashboard/orders/{order.number}/").content.decode()
    assert '<span class="actor">operator</span>' in html


def test_an_unknown_order_is_404(as_user):
    assert as_user("view").get("/dashboard/orders/PO-NOPE-NOPE/").status_code == 404


def test_overview_counts_what_needs_a_person(as_user, paid_order, unpaid_order):
    make_order(status="payment_failed", email="declined@example.com")
    InboxEvent.objects.create(provider="stripe", event_id="evt_f", type="x", status="failed", payload={})
    html = as_user("view").get("/dashboard/").content.decode()
    assert "declined@example.com" in html
    assert "Failed payments, last 7 days (1)" in html
    assert 'status=failed">Failed webhooks</a> <b>1</b>' in html


def test_the_overview_is_cached_briefly(as_user, paid_order):
    client = as_user("view")
    client.get("/dashboard/")
    make_order(status="payment_failed", email="later@example.com")
    assert "later@example.com" not in client.get("/dashboard/").content.decode()
    from django.core.cache import cache

    cache.clear()  # what 30 seconds do
    assert "later@example.com" in client.get("/dashboard/").content.decode()


def test_the_inbox_type_filter_lists_each_type_once(as_user):
    for n, type in enumerate(["charge.refunded", "payment_intent.succeeded", "charge.refunded", "a.first"]):
        InboxEvent.objects.create(provider="stripe", event_id=f"evt_t{n}", type=type, payload={})
    html = as_user("view").get("/dashboard/operations/webhooks/").content.decode()
    options = [chunk.split('"', 1)[0] for chunk in html.split('<option value="')[1:]]
    assert [o for o in options if "." in o] == ["a.first", "charge.refunded", "payment_intent.succeeded"]


def test_an_order_paid_twice_offers_the_refund_of_the_surplus(as_user, paid_order):
    """Issue 13.3: the second payment's success flags the order, and its page says how much
    arrived beyond the total and offers that amount for refund."""
    make_payment(paid_order, intent_id="pi_twice", method="konbini", status="requires_action", amount=10_000)
    deliver(stripe_event("payment_intent.succeeded", intent_object("pi_twice", status="succeeded", amount=10_000)))
    paid_order.refresh_from_db()
    assert paid_order.status == "needs_attention"
    html = as_user("refund").get(f"/dashboard/orders/{paid_order.number}/").content.decode()
    waiting = html.split('class="card waiting"')[1].split("</section>")[0]
    assert "refund the over-payment" in waiting and "¥10,000 more than its total" in waiting
    refund = html.split('id="action-refund"')[1].split("</details>")[0]
    assert 'value="10000"' in refund and "Over-payment" in refund
