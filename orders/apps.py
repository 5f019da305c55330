from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # What follows every order event, in this order: the outbox row and the shopper's mails
        # are written in the event's transaction; the broadcast waits for commit; the workflow's
        # changes commit with the event (orders/reactions.py).
        from orders.live.broadcast import schedule_order_broadcast
        from orders.reactions import on_order_event
        from orders.services.order_mails import order_event_mails
        from orders.services.order_publishing import order_event_publish
        from orders.workflows.triggers import schedule_workflow_triggers

        on_order_event(order_event_publish)
        on_order_event(order_event_mails)
        on_order_event(schedule_order_broadcast)
        on_order_event(schedule_workflow_triggers)
