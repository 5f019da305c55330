from celery import Task, shared_task

from orders.services.checkout_recovery import checkout_settle_abandoned
from orders.services.expiry import expire_unpaid_orders as expire_unpaid_orders_service
from orders.services.fulfilment import orders_mark_delivered_due
from orders.services.payment_cancellation import order_cancel_open_payment_intents
from orders.services.refunds import refund_submit, refunds_awaiting_submission
from payops.stripe.gateway import GatewayUnavailable


@shared_task
def expire_unpaid_orders() -> int:
    return expire_unpaid_orders_service()


@shared_task(bind=True, max_retries=10, default_retry_delay=60)
def cancel_open_payment_intents(self: Task, order_id: int) -> int:
    try:
        return order_cancel_open_payment_intents(order_id=order_id)
    except GatewayUnavailable as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def submit_requested_refunds() -> int:
    """Refunds Stripe could not be asked for (it was unreachable) are asked again."""
    submitted = 0
    for refund_id in refunds_awaiting_submission():
        try:
            refund_submit(refund_id=refund_id)
            submitted += 1
        except GatewayUnavailable:
            break  # still down: the next sweep tries again
    return submitted


@shared_task
def settle_abandoned_checkouts() -> int:
    """Checkouts that stopped after writing their order (orders/services/checkout_recovery.py)."""
    return checkout_settle_abandoned()


@shared_task
def mark_delivered_orders() -> int:
    """Parcels shipped PAYOPS_DELIVERED_AFTER_DAYS ago count as delivered."""
    return orders_mark_delivered_due()
