"""A real Celery worker on Redis publishes what a committed transition wrote (end to end)."""

import os
import time

import pytest
from django.conf import settings as django_settings

from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.tasks import sweep_outbox
from tests.outbox.helpers import card_order_paid, konbini_order_paid

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outbox_worker(aws, stack):
    url = django_settings.REDIS_URL or os.environ.get("PAYOPS_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL or PAYOPS_TEST_REDIS_URL (CI does)")
    from celery.contrib.testing.worker import start_worker

    from payops.celery import app

    previous_broker = app.conf.broker_url
    if previous_broker != url:
        # The producer pool is built on first use; a new broker needs a new pool.
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["outbox"], loglevel="WARNING"):
            yield app
    finally:
        app.conf.task_always_eager = True
        if previous_broker != url:
            app.conf.broker_url = previous_broker
            app._pool = None
            app.amqp._producer_pool = None


def wait_for(queue, stack, count, timeout=30.0):
    """Poll a consumer queue until ``count`` envelopes arrived (the worker runs in its own thread)."""
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        received += stack.receive(queue)
        time.sleep(0.05)
    return received


def test_the_commit_kicks_a_worker_that_publishes_to_the_rule_target(outbox_worker, stack):
    order = konbini_order_paid(amount=60_000)  # commits; the kick goes to Redis

    (large,) = wait_for("LargeKonbini", stack, 1)
    assert large["detail"]["order"]["number"] == order.number
    row = OutboxEvent.objects.get(aggregate=order.number, detail_type="order.paid")
    assert large["detail"]["event_id"] == str(row.event_id)
    assert row.status == OutboxStatus.PUBLISHED and row.attempts == 1


def test_the_sweep_on_a_worker_publishes_rows_whose_kick_was_lost(outbox_worker, stack, settings):
    settings.PAYOPS_AWS = "off"  # the kicks run, find no AWS and leave the rows: as good as lost
    orders = [card_order_paid(amount=1500 + n) for n in range(3)]
    settings.PAYOPS_AWS = "embedded"
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == 3

    sweep_outbox.delay()

    delivered = wait_for("Fulfilment", stack, 3)
    assert sorted(e["detail"]["order"]["number"] for e in delivered) == sorted(o.number for o in orders)
