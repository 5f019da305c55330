"""Writing outbox rows: in the transaction of the change, sized before anything is sent."""

import datetime as dt

import pytest
from django.db import transaction

from orders.services.order_events import Cause, record_order_event
from orders.services.transitions import lock_order, order_mark_paid
from payops.aws.eventbridge import EventEntry, batches, entry_size
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.publisher import outbox_publish_due
from payops.outbox.services import outbox_enqueue, outbox_retry
from tests.factories import make_order, make_payment
from tests.outbox.helpers import card_order_paid, put_events_counter

pytestmark = pytest.mark.django_db


def test_the_row_exists_exactly_when_the_transition_committed():
    order = make_order()
    make_payment(order, method="card", status="succeeded")

    def transition_then_fail() -> None:
        with transaction.atomic():
            order_mark_paid(order_id=order.pk, cause=Cause.webhook("evt_1"))
            assert OutboxEvent.objects.filter(aggregate=order.number).count() == 1
            raise RuntimeError("the transaction fails after the transition")

    with pytest.raises(RuntimeError):
        transition_then_fail()

    assert not OutboxEvent.objects.exists()
    order_mark_paid(order_id=order.pk, cause=Cause.webhook("evt_1"))
    row = OutboxEvent.objects.get()
    assert (row.source, row.detail_type, row.aggregate, row.status) == (
        "payops.orders",
        "order.paid",
        order.number,
        OutboxStatus.PENDING,
    )
    assert row.detail["event_id"] == str(row.event_id)


def test_each_commit_kicks_the_publisher_once_it_is_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        card_order_paid()
    kicks = [c for c in callbacks if getattr(c, "__name__", "") == "_kick_publisher"]
    assert len(kicks) == 1


def test_a_300_kb_detail_is_refused_before_sending_with_a_clear_reason(aws, caplog):
    calls = put_events_counter(aws)
    with transaction.atomic():
        row = outbox_enqueue(
            source="payops.orders",
            detail_type="order.paid",
            detail={"blob": "x" * 300 * 1024},
            aggregate="PO-2222-3333",
            sequence=1,
        )

    row.refresh_from_db()
    assert row.status == OutboxStatus.DEAD
    assert row.last_error.startswith("refused before sending: order.paid entry is 307,")
    assert "EventBridge accepts at most 262,144 bytes per PutEvents entry" in row.last_error
    assert "order.paid for PO-2222-3333 refused" in caplog.text
    assert outbox_publish_due().claimed == 0 and calls == []
    assert outbox_retry(ids=[row.pk]) == 0  # retrying cannot make it smaller


def test_entry_size_follows_aws_rules_and_batches_respect_both_limits(settings):
    entry = EventEntry(key="1", source="payops.orders", detail_type="order.paid", detail='{"a":"é"}')
    assert entry_size(entry) == len("payops.orders") + len("order.paid") + len('{"a":"é"}'.encode())
    timed = EventEntry(key="2", source="s", detail_type="t", detail="{}", time=dt.datetime.now(dt.UTC))
    assert entry_size(timed) == 14 + 1 + 1 + 2

    settings.PAYOPS_EVENT_MAX_BYTES = 1000
    small = [EventEntry(key=str(n), source="s", detail_type="t", detail="{}") for n in range(25)]
    assert [len(b) for b in batches(small)] == [10, 10, 5]
    big = [EventEntry(key=str(n), source="s", detail_type="t", detail="x" * 398) for n in range(5)]
    assert [len(b) for b in batches(big)] == [2, 2, 1]  # 400 bytes each, 1000 per call


def test_list_fields_travel_flat_and_staff_bookkeeping_not_at_all():
    order = card_order_paid()
    with transaction.atomic():
        locked = lock_order(order.pk)
        lines = [{"sku": "TEA", "quantity": 2, "warehouse": {"bin": "A-1"}}]
        record_order_event(order=locked, type="fulfilment.requested", cause=Cause.system("wf"), data={"lines": lines})
        record_order_event(order=locked, type="staff.mail_resent", cause=Cause.system("t"), data={"mail": 1})

    published = dict(OutboxEvent.objects.values_list("detail_type", "detail"))
    assert published["fulfilment.requested"]["data"] == {"lines": [{"sku": "TEA", "quantity": 2}]}
    assert "staff.mail_resent" not in published
