"""The group-committing inbox writer on PostgreSQL: batches, redeliveries inside and across
batches, two server processes at once, a row the database refuses, and the hand-over to Celery."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence

import pytest

from tests.markers import requires_postgres
from tests.stripe_events import intent_object, sign, stripe_event
from webhooks.models import InboxEvent
from webhooks.services.inbox_writer import GroupCommitInboxWriter, InboxInsert
from webhooks.services.receive import InboxRecord, Receipt, stripe_inbox_record, stripe_webhook_receive

pytestmark = pytest.mark.django_db(transaction=True)


def on_postgres(test):
    return requires_postgres(pytest.mark.postgres(test))


SECRET = "whsec_payops_simulator"


def record(n: int, **changes) -> InboxRecord:
    event = stripe_event(
        "payment_intent.succeeded", intent_object(f"pi_gc_{n}", status="succeeded", amount=1500), event_id=f"evt_gc_{n}"
    )
    body = json.dumps(event).encode()
    checked = stripe_inbox_record(body=body, signature_header=sign(body, SECRET))
    return dataclasses.replace(checked, **changes)


class Handed:
    """Stands in for Celery: what the writer handed over, in calls."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail

    def __call__(self, ids: Sequence[int]) -> None:
        self.calls.append(list(ids))
        if self.fail:
            raise ConnectionRefusedError("the broker is down")

    @property
    def ids(self) -> list[int]:
        return [i for call in self.calls for i in call]


def writer(enqueue: Handed, **options) -> GroupCommitInboxWriter:
    return GroupCommitInboxWriter.from_django_settings(enqueue=enqueue, **options)


async def store_all(w: GroupCommitInboxWriter, records: Sequence[InboxRecord]) -> list[Receipt | BaseException]:
    try:
        return list(await asyncio.gather(*(w.store(r) for r in records), return_exceptions=True))
    finally:
        await w.aclose()


@on_postgres
def test_a_burst_is_committed_in_batches_and_each_new_row_is_handed_over_once():
    handed = Handed()
    w = writer(handed, max_batch=8)
    batches: list[int] = []
    insert_batch = w._insert_batch

    async def counting(records):
        batches.append(len(records))
        return await insert_batch(records)

    w._insert_batch = counting  # type: ignore[method-assign]

    receipts = asyncio.run(store_all(w, [record(n) for n in range(50)]))

    assert all(isinstance(r, Receipt) and not r.duplicate and r.status == "received" for r in receipts)
    assert InboxEvent.objects.count() == 50
    assert sum(batches) == 50 and max(batches) == 8 and len(batches) < 50  # a burst shares commits
    assert sorted(handed.ids) == sorted(r.inbox_id for r in receipts)


@on_postgres
def test_redeliveries_in_one_batch_and_of_stored_events_are_duplicates_of_the_one_row():
    stored_before = stripe_webhook_receive_row(record(1))
    handed = Handed()
    records = [record(1), record(2), record(2), record(3), record(1)]

    receipts = asyncio.run(store_all(writer(handed), records))

    by_event: dict[str, list[Receipt]] = {}
    for rec, receipt in zip(records, receipts, strict=True):
        by_event.setdefault(rec.event_id, []).append(receipt)
    assert [r.duplicate for r in by_event["evt_gc_1"]] == [True, True]
    assert {r.inbox_id for r in by_event["evt_gc_1"]} == {stored_before}
    assert sorted(r.duplicate for r in by_event["evt_gc_2"]) == [False, True]
    assert len({r.inbox_id for r in by_event["evt_gc_2"]}) == 1
    assert InboxEvent.objects.count() == 3
    assert sorted(handed.ids) == sorted(
        InboxEvent.objects.filter(event_id__in=["evt_gc_2", "evt_gc_3"]).values_list("pk", flat=True)
    )


def stripe_webhook_receive_row(rec: InboxRecord) -> int:
    body = rec.raw_payload.encode()
    receipt = stripe_webhook_receive(body=body, signature_header=sign(body, SECRET))
    assert receipt.inbox_id is not None
    return receipt.inbox_id


@on_postgres
def test_two_server_processes_storing_the_same_events_in_opposite_orders_neither_deadlock_nor_double():
    events = [record(n) for n in range(40)]

    async def two_processes():
        first, second = writer(Handed(), max_batch=40), writer(Handed(), max_batch=40)
        return await asyncio.wait_for(
            asyncio.gather(store_all(first, events), store_all(second, list(reversed(events)))), timeout=30
        )

    a, b = asyncio.run(two_processes())

    assert InboxEvent.objects.count() == 40
    receipts = [*a, *reversed(b)]
    assert all(isinstance(r, Receipt) for r in receipts)
    for n in range(40):
        pair = [receipts[n], receipts[40 + n]]
        assert sorted(r.duplicate for r in pair) == [False, True]  # exactly one stored it
        assert pair[0].inbox_id == pair[1].inbox_id


@on_postgres
def test_a_row_the_database_refuses_fails_alone_and_its_batch_mates_are_stored():
    handed = Handed()
    bad = record(2, raw_payload='{"text": "\\u0000"}')  # jsonb has no NUL; the edge refuses these first

    receipts = asyncio.run(store_all(writer(handed), [record(1), bad, record(3)]))

    assert isinstance(receipts[0], Receipt) and isinstance(receipts[2], Receipt)
    assert isinstance(receipts[1], Exception)
    assert sorted(InboxEvent.objects.values_list("event_id", flat=True)) == ["evt_gc_1", "evt_gc_3"]


@on_postgres
def test_an_unreachable_database_fails_the_deliveries_so_the_sender_retries():
    w = GroupCommitInboxWriter(
        connection_params={"host": "127.0.0.1", "port": 1, "dbname": "x", "connect_timeout": 1},
        timeout=0.5,
        enqueue=Handed(),
    )

    [outcome] = asyncio.run(store_all(w, [record(1)]))

    assert isinstance(outcome, Exception)


@on_postgres
def test_a_writer_whose_connection_was_cut_reconnects_for_the_next_delivery():
    import psycopg

    async def scenario():
        w = writer(Handed())
        try:
            first = await w.store(record(1))
            [conn] = w._held.values()
            async with await psycopg.AsyncConnection.connect(**_admin_params(), autocommit=True) as admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
            outcomes = []
            for n in range(2, 7):  # one delivery meets the dead connection (503: Stripe retries it)
                try:
                    outcomes.append(await w.store(record(n)))
                except Exception as exc:
                    outcomes.append(exc)
            return first, outcomes
        finally:
            await w.aclose()

    first, outcomes = asyncio.run(scenario())

    failures = [o for o in outcomes if not isinstance(o, Receipt)]
    assert isinstance(first, Receipt)
    assert len(failures) <= 1 and isinstance(outcomes[-1], Receipt)
    stored = set(InboxEvent.objects.values_list("event_id", flat=True))
    acknowledged = {f"evt_gc_{n}" for n, o in zip(range(2, 7), outcomes, strict=True) if isinstance(o, Receipt)}
    assert {"evt_gc_1"} | acknowledged <= stored  # every acknowledged event is stored


def _admin_params() -> dict:
    from django.db import connection

    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}


@on_postgres
def test_a_writer_that_could_not_start_fails_the_delivery_and_starts_on_the_next():
    w = writer(Handed())
    real_open = w._pool.open
    attempts = []

    async def open_once_broken(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("no file descriptors left")
        return await real_open(*args, **kwargs)

    w._pool.open = open_once_broken  # type: ignore[method-assign]

    async def scenario():
        try:
            first = await asyncio.gather(w.store(record(1)), w.store(record(2)), return_exceptions=True)
            return first, await w.store(record(3))
        finally:
            await w.aclose()

    first, later = asyncio.run(asyncio.wait_for(scenario(), timeout=30))

    assert all(isinstance(outcome, OSError) for outcome in first)  # both waited for the one start
    assert isinstance(later, Receipt) and len(attempts) == 2
    assert list(InboxEvent.objects.values_list("event_id", flat=True)) == ["evt_gc_3"]


@on_postgres
def test_a_broker_that_is_down_loses_nothing_the_rows_wait_for_the_sweep():
    from webhooks.services.processing import inbox_due_for_processing

    handed = Handed(fail=True)

    [receipt] = asyncio.run(store_all(writer(handed), [record(1)]))

    assert isinstance(receipt, Receipt) and receipt.status == "received"
    assert handed.calls == [[receipt.inbox_id]]
    row = InboxEvent.objects.get()
    assert row.status == "received"
    InboxEvent.objects.filter(pk=row.pk).update(received_at=row.received_at.replace(year=2020))
    assert inbox_due_for_processing() == [row.pk]


@on_postgres
def test_ignored_rows_are_stored_but_not_handed_over():
    handed = Handed()

    ignored = record(1, ignored_reason="live-mode event on a test-mode install")

    [receipt] = asyncio.run(store_all(writer(handed), [ignored]))

    assert receipt.status == "ignored"
    assert InboxEvent.objects.get().outcome == "live-mode event on a test-mode install"
    assert handed.ids == []


@on_postgres
def test_a_row_written_by_the_writer_equals_the_row_the_orm_writes(monkeypatch):
    """The statement is built from the model: a new column must not make the two paths differ."""
    from webhooks.services import receive

    rec = record(1)
    asyncio.run(store_all(writer(Handed()), [rec]))
    batch_row = InboxEvent.objects.get()
    batch_row.delete()
    monkeypatch.setattr(receive, "enqueue_processing", lambda inbox_id: None)  # compare unprocessed rows
    receive.store_inbox_record(rec)
    orm_row = InboxEvent.objects.get()

    skip = {"id", "received_at"}
    columns = [f.attname for f in InboxEvent._meta.concrete_fields if f.attname not in skip]
    assert {c: getattr(batch_row, c) for c in columns} == {c: getattr(orm_row, c) for c in columns}


def test_a_column_with_a_computed_default_must_be_supplied_explicitly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setattr(InboxEvent._meta.get_field("last_error"), "default", lambda: "computed")

    with pytest.raises(ImproperlyConfigured, match="last_error"):
        InboxInsert.for_model()


def test_process_inbox_events_processes_each_row_and_one_failure_does_not_stop_the_rest(monkeypatch):
    from webhooks import tasks

    seen = []

    def process(inbox_id):
        seen.append(inbox_id)
        if inbox_id == 2:
            raise RuntimeError("database hiccup")
        return "processed"

    monkeypatch.setattr(tasks, "_process", process)

    assert tasks.process_inbox_events.apply(args=([1, 2, 3],)).result == ["processed", "error", "processed"]
    assert seen == [1, 2, 3]
