"""Outbox -> EventBridge (moto over HTTP) -> the stack's rules -> SQS, including the bad days."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_needs_attention
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.publisher import outbox_publish_due
from payops.outbox.services import outbox_retry
from payops.outbox.tasks import sweep_outbox
from tests.aws_fixtures import error_response
from tests.outbox.helpers import (
    card_order_paid,
    event_ids,
    konbini_order_paid,
    put_events_counter,
)

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(hours=1)  # past any backoff


def test_a_transition_is_published_and_its_rule_delivers_the_envelope(stack, django_capture_on_commit_callbacks):
    # when an order is paid and the transaction commits (the kick runs the publisher)
    with django_capture_on_commit_callbacks(execute=True):
        order = card_order_paid(amount=1500)

    # then the outbox row is published with EventBridge's id
    row = OutboxEvent.objects.get(aggregate=order.number, detail_type="order.paid")
    assert row.status == OutboxStatus.PUBLISHED
    assert row.attempts == 1 and row.eventbridge_event_id and row.published_at
    # and the order.paid rule delivered it to the fulfilment queue, in EventBridge's envelope
    (envelope,) = stack.receive("Fulfilment")
    assert envelope["source"] == "payops.orders"
    assert envelope["detail-type"] == "order.paid"
    assert envelope["id"] == row.eventbridge_event_id
    detail = envelope["detail"]
    assert detail["event_id"] == str(row.event_id)
    assert detail["sequence"] == row.sequence
    assert detail["order"] == {
        "number": order.number,
        "status": "paid",
        "total": {"amount": 1500, "currency": "JPY"},
        "payment_method": "card",
        "locale": order.locale,
    }
    assert detail["transition"] == {"from": "pending_payment", "to": "paid"}
    assert detail["data"] == {"amount_received": 1500}
    # and the envelope carries nothing that gives access to the order
    assert order.token not in str(envelope)


def test_every_order_event_reaches_analytics_in_sequence_and_alerts_get_attention(stack):
    order = konbini_order_paid(amount=3200)
    order_mark_needs_attention(order_id=order.pk, cause=Cause.system("test"), reason="stock_missing")

    report = outbox_publish_due()

    assert report.published == 3 and report.calls == 1
    analytics = stack.receive("Analytics")
    assert sorted((e["detail"]["sequence"], e["detail-type"]) for e in analytics) == [
        (1, "order.awaiting_payment"),
        (2, "order.paid"),
        (3, "order.needs_attention"),
    ]
    assert [e["detail-type"] for e in stack.receive("Alerts")] == ["order.needs_attention"]
    assert [e["detail"]["order"]["number"] for e in stack.receive("Fulfilment")] == [order.number]


def test_content_filter_routes_only_konbini_payments_over_50000_yen(stack):
    large = konbini_order_paid(amount=60_000)
    konbini_order_paid(amount=50_000)  # not over the threshold
    card_order_paid(amount=90_000)  # large, but not konbini

    outbox_publish_due()

    (envelope,) = stack.receive("LargeKonbini")
    assert envelope["detail"]["order"]["number"] == large.number
    assert len(stack.receive("Fulfilment")) == 3


def test_a_failed_entry_in_a_batch_is_the_only_one_retried(stack, failing_entries):
    orders = [card_order_paid(amount=1000 + n) for n in range(3)]
    doomed = OutboxEvent.objects.get(aggregate=orders[1].number)
    failing_entries[str(doomed.event_id)] = "InternalFailure"

    # first round: one PutEvents call, FailedEntryCount 1
    report = outbox_publish_due()
    assert (report.published, report.retrying, report.calls) == (2, 1, 1)
    doomed.refresh_from_db()
    assert doomed.status == OutboxStatus.PENDING and doomed.attempts == 1
    assert "InternalFailure" in doomed.last_error
    assert doomed.next_attempt_at > timezone.now()

    # EventBridge recovers; the retry sends only the failed entry
    failing_entries.clear()
    report = outbox_publish_due(now=timezone.now() + LATER)
    assert (report.published, report.calls) == (1, 1)
    assert sorted(event_ids(stack.receive("Fulfilment"))) == sorted(
        str(e) for e in OutboxEvent.objects.values_list("event_id", flat=True)
    )
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {OutboxStatus.PUBLISHED}


def test_throttling_then_recovery_publishes_each_event_exactly_once(aws, stack):
    for n in range(12):
        card_order_paid(amount=2000 + n)
    calls = put_events_counter(aws)
    throttled = {"left": 2}

    def throttle(**kwargs):
        if throttled["left"]:
            throttled["left"] -= 1
            return error_response(400, "ThrottlingException", "Rate exceeded")
        return None

    aws.on("events", "before-send.events.PutEvents", throttle)

    # round 1: the first call is throttled; the publisher backs off instead of pressing on
    first = outbox_publish_due()
    assert first.published == 0 and first.retrying == 10 and first.errors == {"ThrottlingException": 10}
    # round 2 (later): throttled once more, then the rest goes through
    outbox_publish_due(now=timezone.now() + LATER)
    outbox_publish_due(now=timezone.now() + 2 * LATER)

    delivered = event_ids(stack.receive("Fulfilment"))
    assert len(delivered) == 12 == len(set(delivered))
    assert OutboxEvent.objects.filter(status=OutboxStatus.PUBLISHED).count() == 12
    assert calls == [10, 10, 10, 2]  # two throttled calls, then everything once


def test_botocore_retries_absorb_a_short_throttle_within_one_call(aws, stack, settings):
    settings.AWS_MAX_ATTEMPTS = 3
    card_order_paid()
    throttled = {"left": 1}

    def throttle(**kwargs):
        if throttled["left"]:
            throttled["left"] -= 1
            return error_response(400, "ThrottlingException", "Rate exceeded")
        return None

    aws.on("events", "before-send.events.PutEvents", throttle)
    assert outbox_publish_due().published == 1
    assert len(stack.receive("Fulfilment")) == 1


def test_eventbridge_unreachable_loses_nothing_and_never_kills_rows(aws, stack, settings):
    orders = [card_order_paid(amount=3000 + n) for n in range(3)]
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # closed port
    settings.PAYOPS_OUTBOX_MAX_ATTEMPTS = 2

    # an outage longer than the attempt limit
    for hour in range(4):
        report = outbox_publish_due(now=timezone.now() + hour * LATER)
        assert report.published == 0 and report.retrying == 3
    rows = OutboxEvent.objects.all()
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert all(r.attempts == 4 and "EndpointConnectionError" in r.last_error for r in rows)

    # EventBridge is back: everything is published, once
    settings.AWS_ENDPOINT_URL = aws.endpoint
    assert outbox_publish_due(now=timezone.now() + 5 * LATER).published == 3
    assert sorted(e["detail"]["order"]["number"] for e in stack.receive("Fulfilment")) == sorted(
        o.number for o in orders
    )


def test_a_crash_between_commit_and_publish_is_repaired_by_the_sweep(stack, django_capture_on_commit_callbacks):
    # the transition commits, but the process dies before the after-commit kick runs
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = card_order_paid()
    assert callbacks  # the kick existed, and was lost
    assert OutboxEvent.objects.get(aggregate=order.number).status == OutboxStatus.PENDING
    assert stack.receive("Fulfilment") == []

    # the periodic sweep finds the row and publishes it
    sweep_outbox.apply()

    assert [e["detail"]["order"]["number"] for e in stack.receive("Fulfilment")] == [order.number]
    assert OutboxEvent.objects.get(aggregate=order.number).status == OutboxStatus.PUBLISHED


def test_a_rejected_entry_dies_after_the_attempt_limit_and_a_person_can_retry_it(stack, settings, failing_entries):
    settings.PAYOPS_OUTBOX_MAX_ATTEMPTS = 2
    order = card_order_paid()
    row = OutboxEvent.objects.get(aggregate=order.number)
    failing_entries[str(row.event_id)] = "AccessDeniedException"

    outbox_publish_due()
    outbox_publish_due(now=timezone.now() + LATER)
    row.refresh_from_db()
    assert row.status == OutboxStatus.DEAD and row.attempts == 2
    assert row.last_error == "attempt 2: AccessDeniedException: injected entry failure"
    assert outbox_publish_due(now=timezone.now() + 2 * LATER).claimed == 0  # dead rows stay put

    failing_entries.clear()
    assert outbox_retry(ids=[row.pk]) == 1
    assert outbox_publish_due().published == 1
    assert event_ids(stack.receive("Fulfilment")) == [str(row.event_id)]


def test_rows_are_sent_in_batches_of_ten(aws, stack):
    for n in range(23):
        card_order_paid(amount=100 + n)
    calls = put_events_counter(aws)

    report = outbox_publish_due()

    assert report.published == 23
    assert calls == [10, 10, 3]
    assert len(stack.receive("Fulfilment")) == 23


def test_without_aws_rows_wait_untouched(settings):
    settings.PAYOPS_AWS = "off"
    card_order_paid()
    report = outbox_publish_due()
    assert report.skipped_reason and report.claimed == 0
    row = OutboxEvent.objects.get()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, "")


def test_without_update_from_the_rows_are_recorded_one_by_one(stack, monkeypatch):
    from payops.outbox import publisher

    monkeypatch.setattr(publisher, "_supports_update_from", lambda: False)
    for n in range(3):
        card_order_paid(amount=500 + n)
    assert outbox_publish_due().published == 3
    rows = OutboxEvent.objects.all()
    assert all(r.status == OutboxStatus.PUBLISHED and r.attempts == 1 and r.eventbridge_event_id for r in rows)
    assert sorted(event_ids(stack.receive("Fulfilment"))) == sorted(str(r.event_id) for r in rows)


def test_the_sweeps_are_on_the_beat_schedule_and_routed_to_their_queues(settings):
    from payops.celery import app

    app.loader.import_default_modules()
    for name, queue in (("outbox-sweep", "outbox"), ("mail-sweep", "mail")):
        task = settings.CELERY_BEAT_SCHEDULE[name]["task"]
        assert task in app.tasks
        assert app.amqp.router.route({}, task)["queue"].name == queue
