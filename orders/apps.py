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

        # What the webhook inbox hands to this app: Stripe's payment, refund, dispute and review
        # events, and payments reported outside Stripe (webhooks/handlers.py).
        from orders.services.outside_payments import inbox_outside_payment, outside_payment_order_id
        from orders.services.stripe_events import STRIPE_HANDLERS, prepare_stripe_event, stripe_event_order_id
        from webhooks.handlers import on_provider, on_stripe_events

        on_stripe_events(STRIPE_HANDLERS, prepare=prepare_stripe_event, order_of=stripe_event_order_id)
        on_provider("outside:", inbox_outside_payment, order_of=outside_payment_order_id)
