import datetime as dt

import pytest
from django.utils import timezone

from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from tests.api.fixtures import as_token, assert_problem
from tests.stripe_events import stripe_event
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/staff/webhook-events/"
OUTBOX = "/api/v1/staff/outbox-events/"
MAILS = "/api/v1/staff/mails/"


def inbox_row(**overrides):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    fields = {
        "provider": "stripe",
        "event_id": event["id"],
        "type": event["type"],
        "event_created": event["created"],
        "payload": event,
        "status": "failed",
        "attempts": 8,
        "last_error": "RuntimeError: boom",
        "last_traceback": "Traceback ...",
    }
    fields.update(overrides)
    return InboxEvent.objects.create(**fields)


def outbox_row(**overrides):
    fields = {
        "source": "payops.orders",
        "detail_type": "order.paid",
        "detail": {"order": "PO-AAAA-BBBB"},
        "aggregate": "PO-AAAA-BBBB",
        "sequence": 1,
        "status": "dead",
        "attempts": 10,
        "last_error": "ThrottlingException",
    }
    fields.update(overrides)
    return OutboxEvent.objects.create(**fields)


def mail_row(**overrides):
    fields = {
        "idempotency_key": f"mail-{Mail.objects.count()}",
        "template": "order_received",
        "recipient": "a@example.com",
        "language": "ja",
        "context": {"order_number": "PO-AAAA-BBBB"},
        "reference": "PO-AAAA-BBBB",
    }
    fields.update(overrides)
    return Mail.objects.create(**fields)


@pytest.mark.parametrize("path", [INBOX, OUTBOX, MAILS])
def test_reading_needs_a_staff_level(anon, client, outsider, path):
    assert_problem(anon.get(path), 401, "not-authenticated")
    client.force_login(outsider)
    assert_problem(client.get(path), 403, "permission-denied")


# --- webhook inbox --------------------------------------------------------------------------


def test_inbox_list_filters_and_detail(client, viewer):
    failed = inbox_row()
    inbox_row(event_id="evt_ok", status="processed", type="payment_intent.succeeded")
    api = as_token(client, viewer)

    listed = api.get(f"{INBOX}?status=failed").json()["results"]
    assert [row["id"] for row in listed] == [failed.pk]
    assert "payload" not in listed[0]
    assert [r["event_id"] for r in api.get(f"{INBOX}?type=payment_intent.succeeded").json()["results"]] == ["evt_ok"]

    detail = api.get(f"{INBOX}{failed.pk}/").json()
    assert detail["payload"]["type"] == "customer.created"
    assert detail["last_traceback"] == "Traceback ..."
    assert_problem(api.get(f"{INBOX}999999/"), 404)
    assert "status" in assert_problem(api.get(f"{INBOX}?status=bogus"), 400)["errors"]


def test_replay_processes_the_row_again(client, operator):
    row = inbox_row()
    response = as_token(client, operator).post(f"{INBOX}{row.pk}/replay/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["result"] == "ignored"
    assert data["event"]["status"] == "ignored"
    assert data["event"]["attempts"] == 1  # a fresh attempt budget


def test_replay_needs_operate_and_refuses_a_row_being_processed(client, viewer, operator):
    row = inbox_row(status="processing", lease_expires_at=timezone.now() + dt.timedelta(minutes=5))
    assert_problem(as_token(client, viewer).post(f"{INBOX}{row.pk}/replay/"), 403)
    problem = assert_problem(as_token(client, operator).post(f"{INBOX}{row.pk}/replay/"), 409, "being-processed")
    assert "being processed" in problem["detail"]
    assert_problem(as_token(client, operator).post(f"{INBOX}999999/replay/"), 404)


def test_bulk_replay(client, operator):
    rows = [inbox_row(event_id=f"evt_{n}") for n in range(3)]
    response = as_token(client, operator).post(f"{INBOX}replay/", {"ids": [r.pk for r in rows] + [999999]})
    assert response.status_code == 200, response.content
    assert response.json() == {"summary": {"ignored": 3}}


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["a"]}, {"ids": [0]}, {"ids": list(range(1, 102))}])
def test_bulk_replay_validation(client, operator, body):
    errors = assert_problem(as_token(client, operator).post(f"{INBOX}replay/", body), 400)["errors"]
    assert any(field.startswith("ids") for field in errors)


# --- outbox -----------------------------------------------------------------------------------


def test_outbox_list_filters_and_detail(client, viewer):
    dead = outbox_row()
    outbox_row(status="published", sequence=2, detail_type="order.shipped")
    api = as_token(client, viewer)
    assert [r["id"] for r in api.get(f"{OUTBOX}?status=dead").json()["results"]] == [dead.pk]
    assert len(api.get(f"{OUTBOX}?aggregate=PO-AAAA-BBBB").json()["results"]) == 2
    detail = api.get(f"{OUTBOX}{dead.pk}/").json()
    assert detail["detail"]["order"] == "PO-AAAA-BBBB"
    assert detail["event_id"] == str(dead.event_id)


def test_retry_a_dead_row(client, operator, django_capture_on_commit_callbacks):
    dead = outbox_row()
    with django_capture_on_commit_callbacks():
        response = as_token(client, operator).post(f"{OUTBOX}{dead.pk}/retry/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["attempts"] == 0


def test_retry_refuses_a_row_that_is_not_dead(client, viewer, operator):
    published = outbox_row(status="published")
    assert_problem(as_token(client, viewer).post(f"{OUTBOX}{published.pk}/retry/"), 403)
    problem = assert_problem(as_token(client, operator).post(f"{OUTBOX}{published.pk}/retry/"), 409, "not-dead")
    assert "published" in problem["detail"]
    assert_problem(as_token(client, operator).post(f"{OUTBOX}999999/retry/"), 404)


def test_bulk_retry(client, operator):
    rows = [outbox_row(sequence=n) for n in range(3)] + [outbox_row(sequence=9, status="published")]
    response = as_token(client, operator).post(f"{OUTBOX}retry/", {"ids": [r.pk for r in rows]})
    assert response.json() == {"retried": 3}


# --- mail log ---------------------------------------------------------------------------------


def test_mail_list_filters_and_detail(client, viewer):
    failed = mail_row(status="failed", last_error="MessageRejected")
    mail_row(status="sent", template="shipped")
    api = as_token(client, viewer)
    assert [r["id"] for r in api.get(f"{MAILS}?status=failed").json()["results"]] == [failed.pk]
    assert len(api.get(f"{MAILS}?reference=PO-AAAA-BBBB").json()["results"]) == 2
    assert len(api.get(f"{MAILS}?recipient=A@EXAMPLE.COM").json()["results"]) == 2
    detail = api.get(f"{MAILS}{failed.pk}/").json()
    assert detail["context"] == {"order_number": "PO-AAAA-BBBB"}
    assert detail["last_error"] == "MessageRejected"
    assert_problem(api.post(MAILS, {}), 405)
