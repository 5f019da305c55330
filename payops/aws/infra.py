"""Deploying payops's AWS side: the EventBridge stack, the SES identity, and (demo only) secrets.

The same function deploys to moto in the embedded profile and to AWS in production; only the
client settings differ. Demo secrets are refused in production and with a live Stripe key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payops.aws import cloudformation, s3, secretsmanager, ses, ssm
from payops.stripe.gateway import stripe_livemode

# CloudFormation takes at most this much inline; a larger template must come from S3.
_MAX_TEMPLATE_BODY_BYTES = 51_200


@dataclass
class DeployReport:
    stack_name: str
    outputs: dict[str, str]
    template_url: str = ""
    ses_identity: ses.SesIdentity | None = None
    demo_secrets: list[str] = field(default_factory=list)


def deploy_infrastructure(
    *,
    stack_name: str | None = None,
    template_path: Path | None = None,
    template_bucket: str = "",
    ses_identity: str = "",
    demo_secrets: bool = False,
) -> DeployReport:
    stack_name = stack_name or settings.PAYOPS_EVENTS_STACK_NAME
    template_path = template_path or Path(settings.BASE_DIR) / "infra" / "eventbridge.yaml"
    body = template_path.read_bytes()
    template_url = ""
    if template_bucket or len(body) > _MAX_TEMPLATE_BODY_BYTES:
        if not template_bucket:
            raise ImproperlyConfigured(f"{template_path} is over {_MAX_TEMPLATE_BODY_BYTES} bytes: give a bucket")
        # Keyed by content: every deployed version stays in the bucket, a record of what ran.
        key = f"cloudformation/{stack_name}/{hashlib.sha256(body).hexdigest()[:16]}.yaml"
        s3.ensure_bucket(template_bucket)
        template_url = s3.put_object(bucket=template_bucket, key=key, body=body, content_type="application/x-yaml")
    outputs = cloudformation.deploy_stack(
        stack_name=stack_name,
        parameters={"BusName": settings.PAYOPS_EVENT_BUS_NAME},
        template_body=None if template_url else body.decode(),
        template_url=template_url or None,
    )
    report = DeployReport(stack_name=stack_name, outputs=outputs, template_url=template_url)
    # A domain identity by default: production mail comes from the shop's domain, with DKIM.
    identity = ses_identity or parseaddr(settings.PAYOPS_MAIL_FROM)[1].rpartition("@")[2]
    report.ses_identity = ses.ensure_identity(identity)
    if demo_secrets:
        report.demo_secrets = create_demo_secrets()
    return report


def create_demo_secrets() -> list[str]:
    """Put the simulator's test-mode secrets in both stores, so the demo can read from either."""
    if settings.PRODUCTION or stripe_livemode() or not settings.PAYMENT_SIMULATOR:
        raise ImproperlyConfigured("demo secrets are for the embedded profile with the payment simulator only")
    webhook_secrets = list(settings.STRIPE_WEBHOOK_SECRETS)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    secretsmanager.put_json_secret(
        settings.PAYOPS_SECRETS_ID,
        {
            "stripe_secret_key": settings.STRIPE_SECRET_KEY,
            "stripe_webhook_secrets": webhook_secrets,
            "outside_payment_secrets": dict(settings.PAYOPS_OUTSIDE_PAYMENT_SECRETS),
        },
        description=f"payops demo secrets (payment simulator, test mode), written {stamp}",
    )
    path = settings.PAYOPS_SECRETS_SSM_PATH.rstrip("/")
    ssm.put_secure_parameter(f"{path}/stripe_secret_key", settings.STRIPE_SECRET_KEY)
    if webhook_secrets:
        ssm.put_secure_parameter(f"{path}/stripe_webhook_secrets", ",".join(webhook_secrets))
    for source, secret in settings.PAYOPS_OUTSIDE_PAYMENT_SECRETS.items():
        ssm.put_secure_parameter(f"{path}/outside_payment/{source}", secret)
    return [f"secretsmanager:{settings.PAYOPS_SECRETS_ID}", f"ssm:{path}/"]
