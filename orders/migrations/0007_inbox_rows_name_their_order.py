"""Inbox rows stored before the inbox named their order get it named once, the way the pages
matched them until then: by the order events their processing caused, else (a row that failed
or waits) by the PaymentIntent their payload is about, or the order number an outside payment
names. Lives here, not in webhooks: the inbox depends on no app it serves."""

from django.db import migrations

BATCH = 2000


def _intent_in(payload):
    obj = (payload or {}).get("data", {}).get("object", {}) if isinstance(payload, dict) else {}
    if not isinstance(obj, dict):
        return ""
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return str(intent or "")


def name_orders(apps, schema_editor):
    InboxEvent = apps.get_model("webhooks", "InboxEvent")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Payment = apps.get_model("orders", "Payment")
    Order = apps.get_model("orders", "Order")
    last_pk = 0
    while True:
        rows = list(InboxEvent.objects.filter(order_id=None, pk__gt=last_pk).order_by("pk")[:BATCH])
        if not rows:
            return
        last_pk = rows[-1].pk
        references = [r.event_id for r in rows] + [f"{r.provider}:{r.event_id}" for r in rows]
        by_event = dict(
            OrderEvent.objects.filter(cause__in=["webhook", "outside_payment"], cause_reference__in=references)
            .values_list("cause_reference", "order_id")
            .distinct()
        )
        intents = {r.pk: _intent_in(r.payload) for r in rows}
        by_intent = dict(
            Payment.objects.filter(intent_id__in={i for i in intents.values() if i}).values_list("intent_id", "order_id")
        )
        numbers = {
            r.pk: str(r.payload.get("order_number") or "")
            for r in rows
            if r.provider.startswith("outside:") and isinstance(r.payload, dict)
        }
        by_number = dict(Order.objects.filter(number__in={n for n in numbers.values() if n}).values_list("number", "pk"))
        for r in rows:
            order_id = (
                by_event.get(f"{r.provider}:{r.event_id}" if r.provider.startswith("outside:") else r.event_id)
                or by_intent.get(intents[r.pk])
                or by_number.get(numbers.get(r.pk, ""))
            )
            if order_id:
                InboxEvent.objects.filter(pk=r.pk).update(order_id=order_id)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_product_description_ja_and_image"),
        ("webhooks", "0002_inboxevent_order_id"),
    ]

    operations = [migrations.RunPython(name_orders, migrations.RunPython.noop)]
