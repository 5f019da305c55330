from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "payops.outbox"
    label = "outbox"
    verbose_name = "Event outbox (EventBridge)"
