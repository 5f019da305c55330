import dataclasses
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_order, make_payment
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks import handlers
from webhooks.models import InboxEvent
from webhooks.services.processing import inbox_due_for_processing, inbox_process, inbox_replay, retry_delay

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_and_event():
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_p", method="konbini", status="requires_action")
    event = stripe_event(
        "payment_intent.succeeded", intent_object("pi_p", status="succeeded", amount=order.total_amount)
    )
    return order, event


@pytest.fixture
def broken_handler(monkeypatch):
    def explode(event):
        raise RuntimeError("database of the warehouse is down")

    registered = handlers._stripe["payment_intent.succeeded"]
    monkeypatch.setitem(handlers._stripe, "payment_intent.succeeded", dataclasses.replace(registered, handle=explode))
    return monkeypatch


def test_handler_failure_is_recorded_with_traceback_and_replay_succeeds(order_and_event, broken_handler):
    order, event = order_and_event
    row = deliver(event)
    assert row.status == "failed"
    assert row.attempts == 1
    assert row.last_error == "RuntimeError: database of the warehouse is down"
    assert "Traceback" in row.last_traceback and "explode" in row.last_traceback
    assert row.next_attempt_at > timezone.now()
    order.refresh_from_db()
    assert order.status == "awaiting_payment"  # the failed attempt left nothing behind

    broken_handler.undo()
    result = inbox_replay(inbox_id=row.pk)
    row.refresh_from_db()
    assert (result.status, row.status, row.last_error) == ("processed", "processed", "")
    order.refresh_from_db()
    assert order.status == "paid"


def test_failures_retry_with_backoff_then_stop_for_a_person(order_and_event, broken_handler, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    _, event = order_and_event
    row = deliver(event)
    delays = []
    for _ in range(2):
        row.refresh_from_db()
        delays.append(row.next_attempt_at)
        later = row.next_attempt_at + dt.timedelta(seconds=1)
        assert row.pk in inbox_due_for_processing(now=later)
        inbox_process(inbox_id=row.pk, now=later)
    row.refresh_from_db()
    assert row.attempts == 3
    assert row.status == "failed"
    assert row.next_attempt_at is None  # exhausted: the sweep leaves it alone
    assert row.pk not in inbox_due_for_processing(now=timezone.now() + dt.timedelta(days=1))


def test_retry_delay_grows_and_is_capped():
    assert dt.timedelta(seconds=15) <= retry_delay(1) <= dt.timedelta(seconds=30)
    assert dt.timedelta(seconds=60) <= retry_delay(3) <= dt.timedelta(seconds=120)
    assert retry_delay(30) <= dt.timedelta(hours=6)


def test_a_processed_row_is_never_processed_again(order_and_event):
    order, event = order_and_event
    row = deliver(event)
    assert inbox_process(inbox_id=row.pk).status == "skipped"
    assert order.events.filter(type="order.paid").count() == 1


def test_a_row_abandoned_by_a_dead_worker_is_taken_over_after_its_lease():
    row = deliver(stripe_event("customer.created", {"id": "cus_x"}))  # any row
    InboxEvent.objects.filter(pk=row.pk).update(
        status="processing", lease_expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    assert inbox_process(inbox_id=row.pk).status == "skipped"  # lease still held
    later = timezone.now() + dt.timedelta(minutes=6)
    assert row.pk in inbox_due_for_processing(now=later)
    assert inbox_process(inbox_id=row.pk, now=later).status == "ignored"


def test_replay_commands(order_and_event, broken_handler, capsys):
    order, event = order_and_event
    row = deliver(event)
    call_command("webhook_inbox", "--status", "failed")
    listing = capsys.readouterr().out
    assert "failed: 1" in listing and event["id"] in listing and "RuntimeError" in listing
    broken_handler.undo()
    call_command("webhook_replay", "--failed")
    out = capsys.readouterr().out
    assert "[1/1] inbox" in out and "processed: 1" in out
    row.refresh_from_db()
    assert row.status == "processed"
    call_command("webhook_replay", "--since", "2000-01-01T00:00:00")
    assert "[1/1]" in capsys.readouterr().out
    order.refresh_from_db()
    assert order.events.filter(type="order.paid").count() == 1  # replay is idempotent
