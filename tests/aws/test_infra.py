"""Deploying infra/eventbridge.yaml (to moto over HTTP), the SES identity and demo secrets."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from payops.aws import secrets
from payops.aws.client import aws_client
from payops.aws.infra import create_demo_secrets, deploy_infrastructure


def test_deploy_creates_the_stack_and_a_second_deploy_changes_nothing(aws):
    first = deploy_infrastructure()
    second = deploy_infrastructure()

    assert first.outputs == second.outputs
    assert first.outputs["BusName"] == "payops-orders"
    queues = {key for key in first.outputs if key.endswith("QueueUrl")}
    assert queues == {
        "FulfilmentQueueUrl",
        "AnalyticsQueueUrl",
        "AlertsQueueUrl",
        "LargeKonbiniQueueUrl",
        "DeliveryDeadLetterQueueUrl",
    }
    rules = aws_client("events").list_rules(EventBusName="payops-orders")["Rules"]
    assert {r["Name"] for r in rules} >= {
        "payops-orders-order-paid-to-fulfilment",
        "payops-orders-order-events-to-analytics",
        "payops-orders-alerts",
        "payops-orders-large-konbini-payments",
    }
    assert aws_client("events").list_archives()["Archives"][0]["EventSourceArn"] == first.outputs["BusArn"]
    # the sender's domain, as PAYOPS_MAIL_FROM names it (moto reports it unverified, yet sends)
    assert first.ses_identity is not None and first.ses_identity.identity == "payops.example"


def test_the_template_can_be_deployed_from_an_s3_bucket(aws):
    report = deploy_infrastructure(template_bucket="payops-infra")

    assert report.template_url.startswith("https://payops-infra.s3.ap-northeast-1.amazonaws.com/cloudformation/")
    (stored,) = aws_client("s3").list_objects_v2(Bucket="payops-infra")["Contents"]
    assert stored["Key"].endswith(".yaml")
    assert report.outputs["BusName"] == "payops-orders"


@pytest.mark.django_db
def test_demo_secrets_land_in_both_stores(aws, settings):
    create_demo_secrets()
    secrets.forget_cached_secrets()
    try:
        for backend in ("secretsmanager", "ssm"):
            settings.PAYOPS_SECRETS_BACKEND = backend
            assert secrets.stripe_secret_key() == settings.STRIPE_SECRET_KEY
            assert secrets.stripe_webhook_secrets() == list(settings.STRIPE_WEBHOOK_SECRETS)
    finally:
        secrets.forget_cached_secrets()


@pytest.mark.parametrize("override", [{"PRODUCTION": True}, {"PAYMENT_SIMULATOR": False}])
def test_demo_secrets_are_refused_outside_the_embedded_demo(aws, settings, override):
    for name, value in override.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match="embedded profile"):
        create_demo_secrets()


def test_the_deploy_command_prints_the_outputs(aws, capsys):
    call_command("aws_deploy", "--ses-identity", "orders@payops.example")
    out = capsys.readouterr().out
    assert "stack payops-events deployed" in out and '"BusName": "payops-orders"' in out
    assert "SES identity orders@payops.example:" in out
