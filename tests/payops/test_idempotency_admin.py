"""Issue 13.9: the stored answers of checkout keys hold the shopper's secrets; the admin hides them."""

import datetime as dt

import pytest
from django.utils import timezone

from payops.idempotency.models import IdempotencyRecord, IdempotencyState

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "pi_3Secret_secret_Zx81kQ"
ORDER_TOKEN = "q9Xc3n0n7a9xJ1k2Zb8yPq4rT6uV0wLm"


@pytest.fixture
def checkout_record():
    now = timezone.now()
    return IdempotencyRecord.objects.create(
        principal="anonymous",
        key="key-1",
        fingerprint="f" * 64,
        method="POST",
        path="/api/v1/checkout/",
        state=IdempotencyState.COMPLETED,
        locked_until=now,
        expires_at=now + dt.timedelta(days=1),
        response_status=201,
        response_body={
            "order": {
                "number": "PO-4KQ7-ZP2M",
                "token": ORDER_TOKEN,
                "status_url": f"https://shop.example.jp/orders/{ORDER_TOKEN}/",
            },
            "payment": {"id": "pi_3Secret", "client_secret": CLIENT_SECRET, "next_action": None},
        },
        response_headers={"Location": f"/orders/{ORDER_TOKEN}/"},
        response_content_type="application/json",
    )


def test_the_admin_page_of_a_checkout_key_shows_the_answer_without_its_secrets(admin_client, checkout_record):
    html = admin_client.get(f"/admin/idempotency/idempotencyrecord/{checkout_record.pk}/change/").content.decode()
    assert CLIENT_SECRET not in html
    assert ORDER_TOKEN not in html
    # what helps answer "why did my retry get this?" is still there
    assert "PO-4KQ7-ZP2M" in html and "pi_3Secret" in html and "[redacted]" in html


def test_the_changelist_does_not_show_them_either(admin_client, checkout_record):
    html = admin_client.get("/admin/idempotency/idempotencyrecord/").content.decode()
    assert CLIENT_SECRET not in html and ORDER_TOKEN not in html
