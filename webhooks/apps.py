from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhook inbox"

    def ready(self) -> None:
        from webhooks import tasks
        from webhooks.services import receive

        receive.process_hook.connect(tasks.process_inbox_event)
        receive.process_many_hook.connect(tasks.process_inbox_events)
