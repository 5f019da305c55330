"""Start the embedded AWS (moto) for the demo and deploy payops's infrastructure into it.

``./dev up`` runs this before the web server. The moto server runs in a child process that
lives as long as the process that ran this command (the ``./dev`` script), found by every
payops process through ``var/aws-embedded.json``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payops.aws.embedded import start_in_background
from payops.aws.infra import deploy_infrastructure


class Command(BaseCommand):
    help = "Start the embedded AWS (moto) server if needed and deploy the stack, SES identity and demo secrets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--watch-pid", type=int, default=None, help="the server stops when this process exits (default: parent)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PAYOPS_AWS != "embedded" or settings.AWS_ENDPOINT_URL:
            raise CommandError("aws_embedded_up is for the embedded profile (PAYOPS_AWS=embedded, no AWS_ENDPOINT_URL)")
        if importlib.util.find_spec("moto") is None:
            raise CommandError("the embedded AWS needs moto: pip install -r requirements-embedded.txt (./dev up does)")
        log_path = Path(settings.PAYOPS_EMBEDDED_AWS_STATE_FILE).with_suffix(".log")
        server = start_in_background(watch_pid=options["watch_pid"] or os.getppid(), log_path=log_path)
        report = deploy_infrastructure(demo_secrets=True)
        identity = report.ses_identity.identity if report.ses_identity else "-"
        self.stdout.write(
            f"embedded AWS (moto) at {server.endpoint}: bus {report.outputs.get('BusName')}, "
            f"{len(report.outputs)} stack outputs, SES identity {identity}, "
            f"demo secrets in {', '.join(report.demo_secrets)}; log {log_path}"
        )
