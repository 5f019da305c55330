"""Deploy infra/eventbridge.yaml and the SES identity (to moto or AWS, as configured)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from payops.aws.infra import deploy_infrastructure


class Command(BaseCommand):
    help = "Deploy the EventBridge stack (bus, archive, rules, queues) and the SES identity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stack-name", default="", help="default: PAYOPS_EVENTS_STACK_NAME")
        parser.add_argument("--template-bucket", default="", help="upload the template to this S3 bucket first")
        parser.add_argument("--ses-identity", default="", help="address or domain; default: PAYOPS_MAIL_FROM's domain")
        parser.add_argument(
            "--demo-secrets", action="store_true", help="also store the simulator's test secrets (embedded only)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = deploy_infrastructure(
            stack_name=options["stack_name"] or None,
            template_bucket=options["template_bucket"],
            ses_identity=options["ses_identity"],
            demo_secrets=options["demo_secrets"],
        )
        source = f" from {report.template_url}" if report.template_url else ""
        self.stdout.write(f"stack {report.stack_name} deployed{source}")
        self.stdout.write(json.dumps(report.outputs, indent=2, sort_keys=True))
        identity = report.ses_identity
        if identity is not None:
            state = "verified" if identity.verified else "NOT verified yet"
            self.stdout.write(f"SES identity {identity.identity}: {state}")
            for token in identity.dkim_tokens:
                self.stdout.write(f"  DKIM: {token}._domainkey.{identity.identity} CNAME {token}.dkim.amazonses.com")
        for location in report.demo_secrets:
            self.stdout.write(f"demo secrets stored in {location}")
