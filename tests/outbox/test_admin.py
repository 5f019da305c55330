"""The outbox admin: rows with their errors, retry by a person, and the bus as moto saw it."""

import pytest

from payops.aws.infra import create_demo_secrets
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.outbox.publisher import outbox_publish_due
from tests.outbox.helpers import card_order_paid

pytestmark = pytest.mark.django_db


def test_dead_rows_show_their_error_and_a_person_can_send_them_again(admin_client, settings):
    settings.PAYOPS_AWS = "off"
    order = card_order_paid()
    OutboxEvent.objects.update(status=OutboxStatus.DEAD, attempts=10, last_error="attempt 10: AccessDenied: nope")

    page = admin_client.get("/admin/outbox/outboxevent/?status=dead").content.decode()
    assert order.number in page and "attempt 10: AccessDenied: nope" in page

    row = OutboxEvent.objects.get()
    response = admin_client.post(
        "/admin/outbox/outboxevent/", {"action": "retry_dead", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 dead event(s) queued for publishing again." in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)


def test_the_bus_page_lists_what_moto_received_and_never_a_secret(admin_client, stack):
    order = card_order_paid()
    outbox_publish_due()
    create_demo_secrets()  # moto now also holds secrets; the page must not show them

    page = admin_client.get("/admin/outbox/outboxevent/eventbridge/").content.decode()

    row = OutboxEvent.objects.get()
    assert order.number in page and str(row.event_id) in page and "order.paid" in page
    assert "sk_test_payops_simulator" not in page and "whsec_payops_simulator" not in page
    assert "Events on the bus (moto)" in admin_client.get("/admin/outbox/outboxevent/").content.decode()


def test_the_bus_page_says_why_it_is_empty_without_embedded_aws(admin_client, settings):
    settings.PAYOPS_AWS = "aws"
    page = admin_client.get("/admin/outbox/outboxevent/eventbridge/").content.decode()
    assert "PAYOPS_AWS is not embedded" in page


def test_the_bus_page_shows_times_in_jst_like_every_other_page(admin_client, settings, monkeypatch):
    """Moto archives UTC epoch seconds; people read JST everywhere else (issue 14.14)."""
    import datetime as dt

    from payops.aws import embedded
    from payops.outbox import admin as outbox_admin

    settings.PAYOPS_AWS = "embedded"
    monkeypatch.setattr(outbox_admin, "endpoint_url", lambda: "http://127.0.0.1:9")
    archive = {"Archive": [{"events": [{"id": "eb-1", "time": 1796482770, "detail-type": "order.paid"}]}]}
    monkeypatch.setattr(embedded, "moto_state", lambda endpoint: {"events": archive})
    assert dt.datetime.fromtimestamp(1796482770, tz=dt.UTC).isoformat() == "2026-12-05T14:59:30+00:00"

    page = admin_client.get("/admin/outbox/outboxevent/eventbridge/").content.decode()
    assert "2026-12-05 23:59:30" in page and "14:59:30" not in page
