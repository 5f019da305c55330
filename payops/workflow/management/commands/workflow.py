"""Operate workflows from a shell: list what waits for approval, approve or reject, show an
execution's timeline, export a definition as Amazon States Language, run the recovery sweep.

    manage.py workflow approvals
    manage.py workflow approve PO-ABCD-EFGH --user alice --note "customer known"
    manage.py workflow reject 42 --user alice --note "address does not exist"
    manage.py workflow timeline PO-ABCD-EFGH
    manage.py workflow asl order_fulfilment
    manage.py workflow sweep
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from payops.workflow.asl import lambda_arn_for, to_asl
from payops.workflow.definition import DefinitionError
from payops.workflow.models import WorkflowExecution
from payops.workflow.registry import get_workflow
from payops.workflow.runner import workflow_recover
from payops.workflow.selectors import execution_timeline, executions_awaiting_approval
from payops.workflow.services import WorkflowActionNotAllowed, approval_decide


class Command(BaseCommand):
    help = "List and decide workflow approvals, show timelines, export ASL, run the sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        approvals = sub.add_parser("approvals", help="executions waiting for approval")
        approvals.add_argument("--workflow")
        approvals.add_argument("--json", action="store_true", dest="as_json")
        for action in ("approve", "reject"):
            decide = sub.add_parser(action, help=f"{action} an execution waiting for approval")
            decide.add_argument("execution", help="execution id or order number")
            decide.add_argument("--user", required=True, help="username of the staff member deciding")
            decide.add_argument("--note", default="")
            decide.add_argument("--workflow", help="when the order has executions of several workflows")
        timeline = sub.add_parser("timeline", help="an execution's steps")
        timeline.add_argument("execution", help="execution id or order number")
        timeline.add_argument("--workflow")
        timeline.add_argument("--json", action="store_true", dest="as_json")
        asl = sub.add_parser("asl", help="a definition as Amazon States Language JSON")
        asl.add_argument("workflow")
        asl.add_argument("--account", default="123456789012", help="AWS account id for the Lambda ARNs")
        asl.add_argument("--region", default=settings.AWS_REGION)
        asl.add_argument("--prefix", default="payops-", help="Lambda function name prefix")
        sub.add_parser("sweep", help="run the recovery sweep once")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _approvals(self, *, workflow: str | None, as_json: bool, **_: Any) -> None:
        pending = executions_awaiting_approval(workflow=workflow)
        if as_json:
            self._print_json([vars(p) for p in pending])
            return
        if not pending:
            self.stdout.write("nothing waits for approval")
        for p in pending:
            subject = p.order_number or f"execution {p.execution_id}"
            paused = "  [paused]" if p.paused else ""
            self.stdout.write(
                f"{subject}  execution {p.execution_id}  {p.workflow}/{p.state}  waiting since "
                f"{p.waiting_since:%Y-%m-%d %H:%M}  times out {p.times_out_at:%Y-%m-%d %H:%M} -> {p.default}{paused}"
            )
            if p.prompt:
                self.stdout.write(f"    {p.prompt}")
            if p.details is not None:
                self.stdout.write(f"    {p.details}")

    def _approve(self, **options: Any) -> None:
        self._decide("approved", **options)

    def _reject(self, **options: Any) -> None:
        self._decide("rejected", **options)

    def _decide(self, decision: str, *, execution: str, user: str, note: str, workflow: str | None, **_: Any) -> None:
        staff = get_user_model().objects.filter(username=user, is_active=True, is_staff=True).first()
        if staff is None:
            raise CommandError(f"no active staff user {user!r}")
        target = _find_execution(execution, workflow)
        try:
            approval_decide(execution_id=target.pk, decision=decision, user=staff, note=note)
        except WorkflowActionNotAllowed as exc:
            raise CommandError(str(exc)) from exc
        target.refresh_from_db()
        self.stdout.write(f"execution {target.pk} {decision} by {user}; now at {target.current_state}")

    def _timeline(self, *, execution: str, workflow: str | None, as_json: bool, **_: Any) -> None:
        timeline = execution_timeline(execution_id=_find_execution(execution, workflow).pk)
        if as_json:
            self._print_json(timeline.as_json())
            return
        paused = f", paused: {timeline.pause_reason}" if timeline.paused_at else ""
        self.stdout.write(
            f"{timeline.workflow} #{timeline.execution_id} {timeline.order_number} {timeline.status} "
            f"at {timeline.current_state}{paused}"
        )
        for step in timeline.steps:
            line = f"  {step.sequence:>3} {step.state:<28} #{step.attempt} {step.status:<10}"
            if step.due_at:
                line += f" {step.due_label} {step.due_at:%Y-%m-%d %H:%M:%S}"
            if step.decision:
                line += f" {step.decision} by {step.decided_by or 'timeout'}"
            if step.error:
                line += f" {step.error}: {step.cause[:120]}"
            self.stdout.write(line)
        if timeline.error:
            self.stdout.write(f"  error {timeline.error}: {timeline.cause}")

    def _asl(self, *, workflow: str, account: str, region: str, prefix: str, **_: Any) -> None:
        try:
            definition = get_workflow(workflow)
        except DefinitionError as exc:
            raise CommandError(str(exc)) from exc
        self._print_json(to_asl(definition, function_arn=lambda_arn_for(region=region, account=account, prefix=prefix)))

    def _sweep(self, **_: Any) -> None:
        self.stdout.write(str(workflow_recover()))

    def _print_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))


def _find_execution(reference: str, workflow: str | None) -> WorkflowExecution:
    executions = WorkflowExecution.objects.all()
    if workflow:
        executions = executions.filter(workflow=workflow)
    found = list(
        executions.filter(pk=int(reference)) if reference.isdigit() else executions.filter(order__number=reference)
    )
    if not found:
        raise CommandError(f"no execution {reference!r}")
    if len(found) > 1:
        raise CommandError(f"{reference} has executions of several workflows; name one with --workflow")
    return found[0]
