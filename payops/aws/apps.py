from django.apps import AppConfig


class AwsConfig(AppConfig):
    """No models: holds the AWS management commands (deploy, embedded moto server)."""

    name = "payops.aws"
    label = "payops_aws"
    verbose_name = "AWS"
