from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "payops.mail"
    label = "mail"
    verbose_name = "Mail (SES)"

    def ready(self) -> None:
        from payops.mail import services, tasks

        services.send_mail_hook.connect(tasks.send_mail_task)
