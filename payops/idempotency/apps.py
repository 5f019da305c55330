from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "payops.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
