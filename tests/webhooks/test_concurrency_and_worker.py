"""Webhook behaviour that only means something with real services: simultaneous duplicate
deliveries on PostgreSQL, and processing by a real Celery worker through Redis."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from orders.models import Order
from tests.factories import make_order, make_payment
from tests.markers import requires_postgres
from tests.stripe_events import intent_object, post_event, stripe_event
from webhooks.models import InboxEvent


@pytest.fixture
def order_and_event():
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_conc", method="konbini", status="requires_action")
    event = stripe_event(
        "payment_intent.succeeded", intent_object("pi_conc", status="succeeded", amount=order.total_amount)
    )
    return order, event


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_of_one_event_store_and_apply_it_once(order_and_event):
    order, event = order_and_event
    barrier = threading.Barrier(10)
    answers: list[int | str] = []

    def deliver() -> None:
        try:
            barrier.wait()
            answers.append(post_event(Client(), event).status_code)
        except Exception as exc:
            answers.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [200] * 10
    row = InboxEvent.objects.get()
    assert (row.status, row.attempts) == ("processed", 1)
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.events.filter(type="order.paid").count() == 1


@pytest.fixture
def celery_worker_on_redis():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (CI does)")
    from celery.contrib.testing.worker import start_worker

    from payops.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default", "payments", "webhooks"]):
            yield app
    finally:
        app.conf.task_always_eager = True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_processes_what_the_endpoint_stored(order_and_event, celery_worker_on_redis):
    import time

    order, event = order_and_event
    response = post_event(Client(), event)
    assert response.status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Order.objects.get(pk=order.pk).status != "paid":
        time.sleep(0.1)
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert InboxEvent.objects.get().status == "processed"
