from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "payops.mail"
    label = "mail"
    verbose_name = "Mail (SES)"
