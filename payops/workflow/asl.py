"""Export a workflow as Amazon States Language, so the same flow can be deployed to AWS Step
Functions with each task as a Lambda function.

Tasks become Lambda tasks (``payops-<function name>``); callback tasks use
``lambda:invoke.waitForTaskToken``. Step Functions has no approval state, so an ``Approval``
becomes the usual three: a ``.waitForTaskToken`` task that hands the token to the approver, a
``Pass`` that records the default decision when it times out, and a ``Choice`` on the decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from payops.workflow.definition import (
    TIMEOUT,
    And,
    Approval,
    Catch,
    Choice,
    Compare,
    Condition,
    Fail,
    Not,
    Or,
    Retry,
    State,
    Succeed,
    Task,
    Wait,
    Workflow,
    seconds,
)

WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def lambda_arn_for(*, region: str, account: str, prefix: str = "payops-") -> Callable[[str], str]:
    def arn(function: str) -> str:
        return f"arn:aws:lambda:{region}:{account}:function:{prefix}{function.replace('_', '-')}"[:140]

    return arn


def to_asl(workflow: Workflow, *, function_arn: Callable[[str], str]) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for name, state in workflow.states.items():
        states.update(_states(name, state, function_arn))
    comment = workflow.comment or f"payops workflow {workflow.name}"
    return {"Comment": f"{comment} (version {workflow.version})", "StartAt": workflow.start_at, "States": states}


def _states(name: str, state: State, arn: Callable[[str], str]) -> dict[str, Any]:
    if isinstance(state, Task):
        return {name: _task(state, arn)}
    if isinstance(state, Choice):
        choice: dict[str, Any] = {
            "Type": "Choice",
            "Choices": [_rule(r.condition) | {"Next": r.next} for r in state.rules],
        }
        if state.default:
            choice["Default"] = state.default
        return {name: _commented(choice, state.comment)}
    if isinstance(state, Wait):
        return {name: _commented(_wait(state) | _flow(state.next, state.end), state.comment)}
    if isinstance(state, Approval):
        return _approval(name, state, arn)
    if isinstance(state, Succeed):
        return {name: _commented({"Type": "Succeed"}, state.comment)}
    assert isinstance(state, Fail)
    return {
        name: _commented({"Type": "Fail", "Error": state.error, "Cause": state.cause or state.error}, state.comment)
    }


def _task(state: Task, arn: Callable[[str], str]) -> dict[str, Any]:
    function = arn(state.run.__name__)
    task: dict[str, Any] = {"Type": "Task"}
    if state.callback:
        task["Resource"] = WAIT_FOR_TOKEN
        task["Parameters"] = {"FunctionName": function, "Payload": {"input.$": "$", "taskToken.$": "$$.Task.Token"}}
        task["TimeoutSeconds"] = seconds(state.callback_timeout_seconds)
    else:
        task["Resource"] = function
        task["TimeoutSeconds"] = seconds(state.timeout_seconds)
    task["InputPath"] = state.input_path
    task["ResultPath"] = state.result_path
    if state.retry:
        task["Retry"] = [_retrier(r) for r in state.retry]
    if state.catch:
        task["Catch"] = [_catcher(c) for c in state.catch]
    return _commented(task | _flow(state.next, state.end), state.comment)


def _retrier(retry: Retry) -> dict[str, Any]:
    # Step Functions takes whole seconds, at least one, for the interval.
    result: dict[str, Any] = {
        "ErrorEquals": list(retry.errors),
        "IntervalSeconds": max(1, math.ceil(retry.interval_seconds)),
        "MaxAttempts": retry.max_attempts,
        "BackoffRate": retry.backoff_rate,
    }
    if retry.max_delay_seconds is not None:
        result["MaxDelaySeconds"] = max(1, math.ceil(retry.max_delay_seconds))
    if retry.jitter != "NONE":
        result["JitterStrategy"] = retry.jitter
    return result


def _catcher(catch: Catch) -> dict[str, Any]:
    return {"ErrorEquals": list(catch.errors), "Next": catch.next, "ResultPath": catch.result_path}


def _rule(condition: Condition) -> dict[str, Any]:
    if isinstance(condition, And):
        return {"And": [_rule(c) for c in condition.conditions]}
    if isinstance(condition, Or):
        return {"Or": [_rule(c) for c in condition.conditions]}
    if isinstance(condition, Not):
        return {"Not": _rule(condition.condition)}
    assert isinstance(condition, Compare)
    if condition.value_path is not None:
        return {"Variable": condition.variable, f"{condition.op}Path": condition.value_path}
    value = bool(condition.value) if condition.op in ("IsPresent", "IsNull") else condition.value
    return {"Variable": condition.variable, condition.op: value}


def _wait(state: Wait) -> dict[str, Any]:
    if state.seconds is not None:
        return {"Type": "Wait", "Seconds": seconds(state.seconds)}
    if state.timestamp is not None:
        return {"Type": "Wait", "Timestamp": state.timestamp.isoformat().replace("+00:00", "Z")}
    if state.seconds_path is not None:
        return {"Type": "Wait", "SecondsPath": state.seconds_path}
    return {"Type": "Wait", "TimestampPath": state.timestamp_path}


def _approval(name: str, state: Approval, arn: Callable[[str], str]) -> dict[str, Any]:
    result_path = state.result_path or "$.approval"
    decision, timed_out = f"{name}Decision", f"{name}TimedOut"
    payload = {"input.$": "$", "taskToken.$": "$$.Task.Token", "prompt": state.prompt or name}
    return {
        name: _commented(
            {
                "Type": "Task",
                "Resource": WAIT_FOR_TOKEN,
                "Parameters": {"FunctionName": arn("request_approval"), "Payload": payload},
                "TimeoutSeconds": seconds(state.timeout_seconds),
                "ResultPath": result_path,
                "Catch": [{"ErrorEquals": [TIMEOUT], "ResultPath": None, "Next": timed_out}],
                "Next": decision,
            },
            state.comment or "payops Approval: the approver answers with SendTaskSuccess {decision: approved|rejected}",
        ),
        timed_out: {"Type": "Pass", "Result": {"decision": state.default}, "ResultPath": result_path, "Next": decision},
        decision: {
            "Type": "Choice",
            "Choices": [{"Variable": f"{result_path}.decision", "StringEquals": "approved", "Next": state.on_approve}],
            "Default": state.on_reject,
        },
    }


def _flow(next_state: str | None, end: bool) -> dict[str, Any]:
    return {"End": True} if end else {"Next": next_state}


def _commented(state: dict[str, Any], comment: str) -> dict[str, Any]:
    return {"Comment": comment, **state} if comment else state
