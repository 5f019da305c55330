from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "payops.apikeys"
    label = "apikeys"
    verbose_name = "API tokens"

    def ready(self) -> None:
        # Registers the OpenAPI description of the token authentication with drf-spectacular.
        from payops.apikeys import schema  # noqa: F401
