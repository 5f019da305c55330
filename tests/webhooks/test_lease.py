"""The inbox lease (issue 13.13): a killed worker's rows are taken over within seconds, and a
long handler keeps its row however long it runs."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from tests.markers import requires_postgres
from tests.stripe_events import stripe_event
from webhooks.models import InboxEvent
from webhooks.services import processing
from webhooks.services.processing import inbox_due_for_processing, inbox_process


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker gets to record anything."""


def store(event):
    """A row as the endpoint stores it, without the task it enqueues: this worker is the test."""
    return InboxEvent.objects.create(
        provider="stripe", event_id=event["id"], type=event["type"], event_created=event["created"], payload=event
    )


@pytest.mark.django_db
def test_a_row_of_a_killed_worker_is_due_again_within_seconds(monkeypatch):
    row = store(stripe_event("customer.created", {"id": "cus_lease"}))

    def killed(row):
        raise WorkerKilled

    monkeypatch.setattr(processing, "prepare_inbox_event", killed)
    claimed_at = timezone.now()
    with pytest.raises(WorkerKilled):
        inbox_process(inbox_id=row.pk, now=claimed_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("processing", 1)  # left as the dead worker left it

    # The next sweeps take it over: seconds later, not minutes.
    assert row.pk in inbox_due_for_processing(now=claimed_at + dt.timedelta(seconds=15))
    monkeypatch.undo()
    assert inbox_process(inbox_id=row.pk, now=claimed_at + dt.timedelta(seconds=15)).status == "ignored"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("ignored", 2)


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_handler_running_past_its_lease_keeps_the_row(monkeypatch, settings):
    settings.WEBHOOK_LEASE_SECONDS = 1
    row = store(stripe_event("customer.created", {"id": "cus_slow"}))
    prepare, route = processing.prepare_inbox_event, processing.route_inbox_event

    def slow_prepare(row):  # a slow Stripe call, outside any transaction
        time.sleep(2.5)
        return prepare(row)

    def slow_route(row, prepared):  # a long handler, inside the row's transaction
        time.sleep(2.5)
        return route(row, prepared)

    monkeypatch.setattr(processing, "prepare_inbox_event", slow_prepare)
    monkeypatch.setattr(processing, "route_inbox_event", slow_route)
    results = []

    def work():
        try:
            results.append(inbox_process(inbox_id=row.pk).status)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    seen_due = []
    while worker.is_alive():
        seen_due.extend(inbox_due_for_processing())
        time.sleep(0.1)
    worker.join()

    assert seen_due == []  # the sweep never offered the row to a second worker
    assert results == ["ignored"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("ignored", 1)
