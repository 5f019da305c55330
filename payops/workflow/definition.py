"""Workflow definitions as data: named states with Amazon States Language (ASL) semantics.

A ``Workflow`` names its states and where it starts. State kinds:

* ``Task`` runs a Python callable in a Celery worker, with ASL ``Retry`` and ``Catch``; with
  ``callback=True`` it then waits for a signal (ASL ``.waitForTaskToken``);
* ``Choice`` picks the next state by rules on the execution's data;
* ``Wait`` pauses for a duration or until a timestamp;
* ``Approval`` pauses until a person approves or rejects, or its timeout gives the default;
* ``Succeed`` and ``Fail`` end the execution.

Errors are named like ASL's: a step's error is its exception's class name (or ``StepError.error``);
``States.ALL``, ``States.TaskFailed``, ``States.Timeout`` and ``States.Runtime`` mean what they
mean in Step Functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from payops.workflow.paths import PathError, validate_path

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
RUNTIME = "States.Runtime"
DATA_LIMIT = "States.DataLimitExceeded"
JITTER_STRATEGIES = ("NONE", "FULL")

# A duration in seconds, or a function giving it when the state is entered (a setting).
Seconds = int | Callable[[], int]


class DefinitionError(ValueError):
    """A workflow definition that cannot run (unknown target, missing Next, bad path...)."""


class StepError(Exception):
    """Raise from a task to fail it with an ASL error name of one's choosing."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


def seconds(value: Seconds) -> int:
    return int(value() if callable(value) else value)


@dataclass(frozen=True)
class Retry:
    """ASL Retrier. ``max_attempts`` counts retries, not the first try (0 = never retry)."""

    errors: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"

    def delay(self, retry_number: int, rand: Callable[[], float]) -> float:
        """Seconds before retry number ``retry_number`` (1 for the first retry)."""
        delay = self.interval_seconds * self.backoff_rate ** (retry_number - 1)
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        if self.jitter == "FULL":
            # Full jitter: spreads the retries of many executions that failed together.
            delay = rand() * delay
        return delay


@dataclass(frozen=True)
class Catch:
    """ASL Catcher: matching errors go to ``next`` with ``{"Error", "Cause"}`` at ``result_path``."""

    errors: tuple[str, ...]
    next: str
    result_path: str | None = "$"


@dataclass(frozen=True)
class Done:
    """Returned by a callback task whose awaited event has already happened: no waiting."""

    output: Any = None


@dataclass(frozen=True)
class StepContext:
    """What a task callable gets."""

    execution_id: int
    order_id: int | None
    state: str
    attempt: int
    visit: int  # the step sequence of the first attempt of this visit of the state
    input: Any
    now: dt.datetime

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and across a worker dying mid-step: derive side-effect keys from it."""
        return f"workflow:{self.execution_id}:{self.state}:{self.visit}"


@dataclass(frozen=True)
class Task:
    kind: ClassVar[str] = "task"
    run: Callable[[StepContext], Any]
    next: str | None = None
    end: bool = False
    input_path: str = "$"
    result_path: str | None = "$"
    retry: tuple[Retry, ...] = ()
    catch: tuple[Catch, ...] = ()
    # How long a worker may hold the step; past it the step fails with States.Timeout (a dead
    # worker looks exactly like this) and Retry/Catch decide.
    timeout_seconds: Seconds = 300
    # ASL .waitForTaskToken: after ``run`` returns, wait for a signal up to this long.
    callback: bool = False
    callback_timeout_seconds: Seconds = 86400
    comment: str = ""

    @property
    def resource_name(self) -> str:
        return f"{self.run.__module__}.{self.run.__qualname__}"


# --- Choice rules --------------------------------------------------------------------------

COMPARISONS = (
    "BooleanEquals",
    "StringEquals",
    "NumericEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "IsPresent",
    "IsNull",
)


@dataclass(frozen=True)
class Compare:
    """``variable`` (a path) compared with ``value``; ``value_path`` compares with another path
    (ASL's ``...Path`` comparators)."""

    variable: str
    op: str
    value: Any = None
    value_path: str | None = None


@dataclass(frozen=True)
class And:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


Condition = Compare | And | Or | Not


@dataclass(frozen=True)
class Rule:
    condition: Condition
    next: str


@dataclass(frozen=True)
class Choice:
    kind: ClassVar[str] = "choice"
    rules: tuple[Rule, ...]
    default: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Wait:
    """Exactly one of ``seconds``, ``timestamp``, ``seconds_path``, ``timestamp_path``."""

    kind: ClassVar[str] = "wait"
    next: str | None = None
    end: bool = False
    seconds: Seconds | None = None
    timestamp: dt.datetime | None = None
    seconds_path: str | None = None
    timestamp_path: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Approval:
    """Waits for a person's decision. ``timeout_seconds`` later the ``default`` decision is taken.

    The decision (``{"decision", "decided_by", "note", "decided_at"}``) goes to ``result_path``.
    """

    kind: ClassVar[str] = "approval"
    on_approve: str
    on_reject: str
    timeout_seconds: Seconds = 86400
    default: str = "rejected"
    result_path: str | None = "$.approval"
    prompt: str = ""
    # What the approver should see from the data (e.g. the reasons a review was asked for).
    details_path: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Succeed:
    kind: ClassVar[str] = "succeed"
    comment: str = ""


@dataclass(frozen=True)
class Fail:
    kind: ClassVar[str] = "fail"
    error: str = "States.Fail"
    cause: str = ""
    comment: str = ""


State = Task | Choice | Wait | Approval | Succeed | Fail
DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class Workflow:
    name: str
    start_at: str
    states: Mapping[str, State]
    comment: str = ""
    version: str = field(init=False, default="")

    def __post_init__(self) -> None:
        _validate(self)
        object.__setattr__(self, "version", _fingerprint(self))

    def state(self, name: str) -> State:
        try:
            return self.states[name]
        except KeyError:
            raise DefinitionError(f"workflow {self.name} has no state {name!r}") from None


def targets(state: State) -> list[str]:
    """The states ``state`` can move to."""
    if isinstance(state, Task):
        return [*([state.next] if state.next else []), *(c.next for c in state.catch)]
    if isinstance(state, Choice):
        return [*(r.next for r in state.rules), *([state.default] if state.default else [])]
    if isinstance(state, Wait):
        return [state.next] if state.next else []
    if isinstance(state, Approval):
        return [state.on_approve, state.on_reject]
    return []


def _validate(workflow: Workflow) -> None:
    problems: list[str] = []
    if workflow.start_at not in workflow.states:
        problems.append(f"StartAt {workflow.start_at!r} is not a state")
    for name, state in workflow.states.items():
        problems += [f"{name}: {p}" for p in _state_problems(state)]
        problems += [f"{name}: next state {t!r} does not exist" for t in targets(state) if t not in workflow.states]
    reachable, todo = set(), [workflow.start_at]
    while todo:
        name = todo.pop()
        if name in reachable or name not in workflow.states:
            continue
        reachable.add(name)
        todo += targets(workflow.states[name])
    problems += [f"{name}: unreachable from {workflow.start_at}" for name in workflow.states if name not in reachable]
    if problems:
        raise DefinitionError(f"workflow {workflow.name}: " + "; ".join(problems))


def _state_problems(state: State) -> list[str]:
    problems: list[str] = []
    paths: list[str | None] = []
    if isinstance(state, Task | Wait) and bool(state.next) == state.end:
        problems.append("needs exactly one of next= and end=True")
    if isinstance(state, Task):
        paths += [state.input_path, state.result_path, *(c.result_path for c in state.catch)]
        problems += [f"unknown jitter {r.jitter!r}" for r in state.retry if r.jitter not in JITTER_STRATEGIES]
        problems += ["a retrier needs error names" for r in state.retry if not r.errors]
        problems += ["a catcher needs error names" for c in state.catch if not c.errors]
    if isinstance(state, Wait):
        given = [state.seconds, state.timestamp, state.seconds_path, state.timestamp_path]
        if sum(value is not None for value in given) != 1:
            problems.append("needs exactly one of seconds, timestamp, seconds_path, timestamp_path")
        paths += [state.seconds_path, state.timestamp_path]
    if isinstance(state, Choice):
        if not state.rules:
            problems.append("needs at least one rule")
        for rule in state.rules:
            problems += _condition_problems(rule.condition, paths)
    if isinstance(state, Approval):
        paths += [state.result_path, state.details_path]
        if state.default not in DECISIONS:
            problems.append(f"default must be one of {DECISIONS}")
    for path in paths:
        if path is not None:
            try:
                validate_path(path)
            except PathError as exc:
                problems.append(str(exc))
    return problems


def _condition_problems(condition: Condition, paths: list[str | None]) -> list[str]:
    if isinstance(condition, And | Or):
        return [p for c in condition.conditions for p in _condition_problems(c, paths)]
    if isinstance(condition, Not):
        return _condition_problems(condition.condition, paths)
    paths += [condition.variable, condition.value_path]
    return [] if condition.op in COMPARISONS else [f"unknown comparison {condition.op!r}"]


def _fingerprint(workflow: Workflow) -> str:
    """A short hash of the definition, stored on each execution: which version started it."""

    def plain(value: Any) -> Any:
        if callable(value):
            return f"{value.__module__}.{getattr(value, '__qualname__', type(value).__name__)}"
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {"kind": type(value).__name__, **{k: plain(getattr(value, k)) for k in value.__dataclass_fields__}}
        return value if isinstance(value, str | int | float | bool | type(None)) else str(value)

    body = {"start_at": workflow.start_at, "states": {k: plain(v) for k, v in workflow.states.items()}}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
