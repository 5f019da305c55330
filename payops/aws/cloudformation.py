"""CloudFormation: create a stack or update it in place, and read its outputs."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError

from payops.aws.client import aws_client, error_code

_NO_UPDATES = "No updates are to be performed"


class StackDeployFailed(Exception):
    pass


def deploy_stack(
    *,
    stack_name: str,
    parameters: Mapping[str, str],
    template_body: str | None = None,
    template_url: str | None = None,
    wait_seconds: int = 900,
) -> dict[str, str]:
    """Create or update ``stack_name`` and wait for it; returns the stack's outputs."""
    client = aws_client("cloudformation")
    template = {"TemplateURL": template_url} if template_url else {"TemplateBody": template_body or ""}
    params = [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()]
    if _stack_exists(stack_name):
        try:
            client.update_stack(StackName=stack_name, Parameters=params, **template)
        except ClientError as exc:
            if _NO_UPDATES not in str(exc):
                raise
        else:
            _wait(client, "stack_update_complete", stack_name, wait_seconds)
    else:
        client.create_stack(StackName=stack_name, Parameters=params, **template)
        _wait(client, "stack_create_complete", stack_name, wait_seconds)
    return stack_outputs(stack_name)


def _stack_exists(stack_name: str) -> bool:
    try:
        stacks = aws_client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return False
        raise
    # A stack whose creation failed and rolled back cannot be updated; report it, do not guess.
    return any(stack["StackStatus"] != "DELETE_COMPLETE" for stack in stacks)


def _wait(client: object, waiter_name: str, stack_name: str, wait_seconds: int) -> None:
    waiter = client.get_waiter(waiter_name)  # type: ignore[attr-defined]
    delay = 5
    try:
        waiter.wait(StackName=stack_name, WaiterConfig={"Delay": delay, "MaxAttempts": max(wait_seconds // delay, 1)})
    except Exception as exc:
        raise StackDeployFailed(f"stack {stack_name} did not reach its target state: {exc}") from exc


def stack_outputs(stack_name: str) -> dict[str, str]:
    stack = aws_client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
