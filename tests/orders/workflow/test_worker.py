"""The fulfilment workflow run by a real Celery worker through Redis, on real time: steps as
Celery messages with ETAs, the shipment signal from another process's transaction, and the
sweep recovering an execution whose messages were lost while no worker was up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from celery import Celery
from django.conf import settings

from orders.models import Order
from orders.services.fulfilment import order_mark_shipped
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_paid
from payops.workflow.models import StepRun, WorkflowExecution
from payops.workflow.runner import workflow_recover
from tests.factories import make_order, make_payment, make_product

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workflow_settings(settings: pytest.FixtureRequest) -> None:
    settings.PAYOPS_FULFILMENT_SETTLE_SECONDS = 1  # type: ignore[attr-defined]
    settings.PAYOPS_WORKFLOW_REDISPATCH_SECONDS = 0  # type: ignore[attr-defined]


@pytest.fixture
def celery_app() -> Iterator[Celery]:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (CI does)")
    from payops.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        yield app
    finally:
        app.conf.task_always_eager = True


def start_worker(app: Celery) -> AbstractContextManager[object]:
    from celery.contrib.testing.worker import start_worker as start

    return start(app, pool="solo", perform_ping_check=False, queues=["workflow"])


def paid_order() -> Order:
    product = make_product(price_amount=5000, stock_on_hand=5)
    order = make_order(status="awaiting_payment", product=product, quantity=1)
    make_payment(order, intent_id=f"pi_worker_{order.pk}", status="succeeded", amount=5000, amount_received=5000)
    order_mark_paid(order_id=order.pk, cause=Cause.webhook(f"evt_worker_{order.pk}"))
    return order


def wait_for(condition: Callable[[], bool], *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {seconds} s")


def at(order_id: int, state: str, status: str = "running") -> Callable[[], bool]:
    def check() -> bool:
        execution = WorkflowExecution.objects.filter(order_id=order_id).first()
        return execution is not None and (execution.current_state, execution.status) == (state, status)

    return check


def test_a_real_worker_runs_the_fulfilment_workflow_to_completion(celery_app, workflow_settings, django_user_model):
    staff = django_user_model.objects.create_user("clerk", is_staff=True)
    with start_worker(celery_app):
        order = paid_order()
        wait_for(at(order.pk, "WaitForShipment"))
        order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="4242")
        wait_for(at(order.pk, "Fulfilled", "succeeded"))

    order.refresh_from_db()
    assert order.status == "shipped"  # delivery is confirmed later, by staff or the sweep (ADR 0004)
    execution = WorkflowExecution.objects.get(order=order)
    assert list(execution.steps.values_list("state", "status").order_by("sequence"))[-3:] == [
        ("SendShippedMail", "succeeded"),
        ("CompleteOrder", "succeeded"),
        ("Fulfilled", "succeeded"),
    ]
    assert not execution.steps.filter(attempt__gt=1).exists()


def test_messages_lost_while_every_worker_was_down_are_recovered_by_the_sweep(celery_app, workflow_settings):
    order = paid_order()  # no worker is up: the settle wait's message waits in Redis
    execution = WorkflowExecution.objects.get(order=order)
    time.sleep(1.5)
    celery_app.control.purge()  # ...and is lost (a broker restart without persistence)
    with start_worker(celery_app):
        time.sleep(1)
        assert at(order.pk, "SettlePayment")(), "nothing should run without a message"
        assert workflow_recover()["sent"] == 1  # beat's sweep finds the due wait
        wait_for(at(order.pk, "WaitForShipment"))
    assert StepRun.objects.filter(execution=execution, state="CommitStock", status="succeeded").count() == 1
