from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "payops.outbox"
    label = "outbox"
    verbose_name = "Event outbox (EventBridge)"

    def ready(self) -> None:
        from payops.outbox import services, tasks

        services.publish_hook.connect(tasks.publish_outbox)
