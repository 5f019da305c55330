from celery import shared_task

from orders.services.expiry import expire_unpaid_orders as expire_unpaid_orders_service


@shared_task
def expire_unpaid_orders() -> int:
    return expire_unpaid_orders_service()
