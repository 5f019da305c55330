"""Data for the schemathesis run in CI (.ci/run): a staff user with a token, orders in the
states staff act on, and a row of each kind staff read. The ids and numbers are fixed (the run
starts on an empty database) so schemathesis.toml can point the fuzzer at them.

    .venv/bin/python manage.py shell --no-imports -c "from tests.api.fuzz.seed import seed; seed()"

prints the API token for the fuzzer.
"""

from __future__ import annotations

import io

from django.contrib.auth.models import User
from django.core.management import call_command

from orders.models import Product
from orders.services.order_events import Cause, record_order_event
from payops.apikeys.services import api_token_create
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from tests.factories import make_order, make_payment
from webhooks.models import InboxEvent

ORDER_TOKEN = "fuzz-order-token-aaaaaaaaaaaaaaaaaaaa"


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    fuzzer = User.objects.create_superuser("fuzzer", password=None)
    product = Product.objects.get(sku="TEA-SENCHA-100")

    def order(number: str, status: str, **fields: object) -> None:
        made = make_order(status=status, product=product, quantity=2, number=number, email="fuzz@example.com", **fields)
        record_order_event(order=made, type="order.created", cause=Cause.customer())
        if status != "awaiting_payment":
            make_payment(made, intent_id=f"pi_{number}", status="succeeded", amount_received=made.total_amount)

    order("PO-FUZZ-OPEN", "awaiting_payment", token=ORDER_TOKEN)
    order("PO-FUZZ-PAID", "paid")
    order("PO-FUZZ-SHIP", "fulfilling")
    order("PO-FUZZ-HELD", "awaiting_approval")
    event = {"id": "evt_fuzz", "type": "customer.created", "created": 1, "data": {"object": {"id": "cus_fuzz"}}}
    InboxEvent.objects.create(
        provider="stripe", event_id="evt_fuzz", type="customer.created", payload=event, status="failed", attempts=8
    )
    OutboxEvent.objects.create(
        source="payops.orders",
        detail_type="order.paid",
        detail={"order": "PO-FUZZ-PAID"},
        aggregate="PO-FUZZ-PAID",
        sequence=1,
        status="dead",
    )
    Mail.objects.create(
        idempotency_key="fuzz-mail",
        template="order_received",
        recipient="fuzz@example.com",
        language="ja",
        reference="PO-FUZZ-PAID",
        status="failed",
    )
    print(api_token_create(user=fuzzer, name="schemathesis", level="refund", created_by=None).plaintext)
