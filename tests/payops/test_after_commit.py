"""Work handed to the broker after commit never undoes (or fails) the request that committed:
with the broker down, the send fails, is logged, and the sweep sends it later (issue 13.6,
found by tests/chaos: a checkout with Redis down answered 500 from the order-received mail's kick).

Django's robust ``on_commit`` names a failing callback by its ``__qualname__``; a
``functools.partial`` has none, so the AttributeError escaped the robust guard (Django 5.2)."""

import logging

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from payops.mail.models import Mail
from payops.mail.services import mail_enqueue, mail_retry
from payops.mail.tasks import send_mail_task
from payops.workflow import dispatch
from payops.workflow.tasks import run_step

pytestmark = pytest.mark.django_db(transaction=True)

BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BROKER_DOWN

    for task in (send_mail_task, run_step):
        monkeypatch.setattr(task, "delay", refuse)
        monkeypatch.setattr(task, "apply_async", refuse)


def enqueue(key: str) -> None:
    mail_enqueue(template="order_received", recipient="a@example.jp", language="ja", context={}, idempotency_key=key)


def test_a_mail_enqueued_while_the_broker_is_down_commits_and_logs(broker_down, caplog):
    with caplog.at_level(logging.ERROR), transaction.atomic():
        enqueue("mail-1")
    assert Mail.objects.filter(idempotency_key="mail-1", status="pending").exists()
    assert "Connection refused" in caplog.text


def test_a_mail_retried_while_the_broker_is_down_commits(broker_down):
    enqueue("mail-2")
    Mail.objects.filter(idempotency_key="mail-2").update(status="failed")
    with transaction.atomic():
        assert mail_retry(ids=Mail.objects.values_list("pk", flat=True)) == 1
    assert Mail.objects.get(idempotency_key="mail-2").status == "pending"


def test_a_workflow_step_sent_while_the_broker_is_down_commits(broker_down):
    class Step:
        pk, execution_id = 1, 2

    with transaction.atomic():
        dispatch.send_after_commit(Step(), 0.0)  # type: ignore[arg-type]
