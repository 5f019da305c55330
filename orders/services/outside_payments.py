"""Payments confirmed outside Stripe: a deposit the merchant's bank saw, cash on delivery,
another provider, or staff recording a payment by hand. They feed the same ``order_mark_paid``
as Stripe's events do."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from orders.coverage import order_coverage
from orders.models import Order, Payment
from orders.models.payments import PaymentMethod
from orders.services.order_events import Cause
from orders.services.transitions import lock_order, order_mark_paid_locked
from orders.state_machine import OrderStatus, is_transition_allowed
from orders.tasks import cancel_open_payment_intents
from payops.money import Money, MoneyError
from webhooks.handlers import EventOutcome, EventRefused
from webhooks.models import InboxEvent

logger = logging.getLogger(__name__)


class OutsidePaymentRefused(EventRefused):
    """The payment cannot be applied to the order as it stands; a person must look at it.

    Retrying would not help, so the inbox records it as failed without further attempts.
    """


@transaction.atomic
def order_record_outside_payment(
    *, order_number: str, amount: int, currency: str, source: str, reference: str, cause: Cause
) -> EventOutcome:
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        raise OutsidePaymentRefused(f"no order numbered {order_number!r}")
    order = lock_order(order.pk)
    if Payment.objects.filter(outside_source=source, outside_reference=reference).exists():
        return EventOutcome(False, f"payment {reference!r} from {source} was already recorded", order.pk)
    try:
        money = Money(amount, currency)
    except MoneyError as exc:
        raise OutsidePaymentRefused(f"invalid amount: {exc}") from exc
    if money.currency != order.currency:
        raise OutsidePaymentRefused(f"currency {money.currency} does not match the order's {order.currency}")
    if money.amount != order.total_amount:
        raise OutsidePaymentRefused(
            f"amount {money.format()} does not match the order total {order.total.format()}; "
            "partial payments outside Stripe are not applied automatically"
        )
    if not is_transition_allowed(order.status, OrderStatus.PAID):
        raise OutsidePaymentRefused(f"order {order.number} is {order.status}; a payment cannot be applied to it")
    if order_coverage(order).covered:
        # Money already covers it (an order a person holds after it was paid twice): a third
        # payment would only be more money to give back.
        raise OutsidePaymentRefused(f"order {order.number} is already paid in full; nothing more is due")
    try:
        with transaction.atomic():
            Payment.objects.create(
                order=order,
                method=PaymentMethod.OUTSIDE,
                amount=money.amount,
                amount_received=money.amount,
                currency=money.currency,
                status="succeeded",
                outside_source=source,
                outside_reference=reference,
            )
    except IntegrityError:  # the same payment recorded at the same moment by another worker
        return EventOutcome(False, f"payment {reference!r} from {source} was already recorded", order.pk)
    order_mark_paid_locked(order, cause=cause, data={"source": source, "reference": reference, "amount": money.amount})
    # The shopper must not be able to pay the Stripe voucher or transfer as well.
    transaction.on_commit(lambda: cancel_open_payment_intents.delay(order.pk), robust=True)
    return EventOutcome(True, f"order {order.number} paid outside Stripe ({source} {reference})", order.pk)


# --- what the orders app registers with the inbox for "outside:<source>" rows (OrdersConfig.ready())


def inbox_outside_payment(row: InboxEvent) -> EventOutcome:
    """A payment another source reported to the inbox (webhooks/services/receive.py stored it)."""
    payment = row.payload
    return order_record_outside_payment(
        order_number=payment["order_number"],
        amount=payment["amount"],
        currency=payment["currency"],
        source=row.provider.removeprefix("outside:"),
        reference=payment["id"],
        cause=Cause("outside_payment", f"{row.provider}:{row.event_id}"),
    )


def outside_payment_order_id(row: InboxEvent) -> int | None:
    number = row.payload.get("order_number") if isinstance(row.payload, dict) else None
    return Order.objects.filter(number=str(number)).values_list("pk", flat=True).first() if number else None
