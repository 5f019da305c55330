"""Several publishers at once: SELECT ... FOR UPDATE SKIP LOCKED keeps each row with one of them."""

import threading
from collections import Counter

import pytest
from django.db import connection

from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.publisher import outbox_publish_due
from tests.markers import requires_postgres
from tests.outbox.helpers import card_order_paid, event_ids

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def committed_paid_orders(count, settings):
    """Rows committed while AWS is off, so the after-commit kicks leave them for the test."""
    settings.PAYOPS_AWS = "off"
    for n in range(count):
        card_order_paid(amount=1000 + n)
    settings.PAYOPS_AWS = "embedded"
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == count


def run_in_thread(name, target, results):
    def body():
        try:
            results[name] = target()
        except Exception as exc:  # the test reports it
            results[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body, name=name)
    thread.start()
    return thread


def test_a_second_publisher_skips_rows_the_first_holds_and_takes_the_next(aws, stack, settings):
    settings.PAYOPS_OUTBOX_BATCH_SIZE = 10
    committed_paid_orders(15, settings)
    first_in_call, release_first = threading.Event(), threading.Event()

    def hold_first_publisher(**kwargs):
        if threading.current_thread().name == "publisher-a" and not release_first.is_set():
            first_in_call.set()
            release_first.wait(timeout=30)

    aws.on("events", "before-send.events.PutEvents", hold_first_publisher)
    results = {}

    # publisher A claims the first ten rows and is stuck inside its PutEvents call, rows locked
    a = run_in_thread("publisher-a", lambda: outbox_publish_due(max_rounds=1), results)
    assert first_in_call.wait(timeout=30)
    # publisher B does not wait for A's locks: it takes the five rows nobody holds
    b = run_in_thread("publisher-b", lambda: outbox_publish_due(max_rounds=1), results)
    b.join(timeout=30)
    assert results["publisher-b"].published == 5
    release_first.set()
    a.join(timeout=30)
    assert results["publisher-a"].published == 10

    delivered = event_ids(stack.receive("Fulfilment"))
    assert len(delivered) == 15 == len(set(delivered))
    assert OutboxEvent.objects.filter(status=OutboxStatus.PUBLISHED).count() == 15


def test_many_publishers_racing_publish_every_row_exactly_once(aws, stack, settings):
    settings.PAYOPS_OUTBOX_BATCH_SIZE = 7
    committed_paid_orders(60, settings)
    start = threading.Barrier(6)
    results = {}

    def publisher():
        start.wait(timeout=30)
        return outbox_publish_due()

    threads = [run_in_thread(f"publisher-{n}", publisher, results) for n in range(6)]
    for thread in threads:
        thread.join(timeout=60)

    assert sum(report.published for report in results.values()) == 60
    assert all(report.retrying == 0 for report in results.values())
    delivered = Counter(event_ids(stack.receive("Fulfilment")))
    assert len(delivered) == 60 and set(delivered.values()) == {1}
