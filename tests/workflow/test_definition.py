import pytest

from payops.workflow.definition import (
    Approval,
    Catch,
    Choice,
    Compare,
    DefinitionError,
    Fail,
    Retry,
    Rule,
    Succeed,
    Task,
    Wait,
    Workflow,
)
from payops.workflow.paths import PathError, get_path, set_path


def noop(ctx):
    return None


def test_a_valid_definition_gets_a_stable_version():
    def build():
        return Workflow("w", "A", {"A": Task(run=noop, next="B"), "B": Succeed()})

    assert build().version == build().version
    other = Workflow("w", "A", {"A": Task(run=noop, next="B", timeout_seconds=5), "B": Succeed()})
    assert other.version != build().version


@pytest.mark.parametrize(
    ("states", "problem"),
    [
        ({"A": Task(run=noop, next="Nowhere")}, "next state 'Nowhere' does not exist"),
        ({"A": Task(run=noop)}, "exactly one of next= and end=True"),
        ({"A": Task(run=noop, next="B", end=True), "B": Succeed()}, "exactly one of next= and end=True"),
        ({"A": Succeed(), "B": Succeed()}, "B: unreachable"),
        ({"A": Task(run=noop, end=True, result_path="result")}, "not a reference path"),
        ({"A": Task(run=noop, end=True, retry=(Retry(("X",), jitter="SOME"),))}, "unknown jitter"),
        ({"A": Task(run=noop, end=True, catch=(Catch((), next="A"),))}, "a catcher needs error names"),
        ({"A": Wait(end=True)}, "exactly one of seconds"),
        ({"A": Wait(end=True, seconds=1, seconds_path="$.s")}, "exactly one of seconds"),
        ({"A": Choice(rules=())}, "at least one rule"),
        ({"A": Choice(rules=(Rule(Compare("$.x", "Equals", 1), "B"),)), "B": Succeed()}, "unknown comparison"),
        ({"A": Approval(on_approve="B", on_reject="B", default="maybe"), "B": Succeed()}, "default must be"),
    ],
)
def test_definitions_that_cannot_run_are_refused_when_built(states, problem):
    with pytest.raises(DefinitionError, match=problem):
        Workflow("broken", "A", states)


def test_start_state_must_exist():
    with pytest.raises(DefinitionError, match="StartAt 'Z'"):
        Workflow("w", "Z", {"A": Fail()})


def test_retry_intervals_grow_by_the_backoff_rate_and_stop_at_the_max_delay():
    retry = Retry(("X",), interval_seconds=2, backoff_rate=3, max_delay_seconds=30)
    assert [retry.delay(n, lambda: 0.5) for n in (1, 2, 3, 4)] == [2, 6, 18, 30]


def test_full_jitter_picks_a_delay_between_zero_and_the_interval():
    retry = Retry(("X",), interval_seconds=10, backoff_rate=2, jitter="FULL")
    assert retry.delay(2, lambda: 0.25) == 5.0
    assert retry.delay(2, lambda: 0.0) == 0.0


def test_paths_read_and_write_without_changing_the_original():
    data = {"order": {"id": 7}}
    assert get_path(data, "$.order.id") == 7
    assert get_path(data, "$") is data
    updated = set_path(data, "$.order.review.needed", True)
    assert updated == {"order": {"id": 7, "review": {"needed": True}}}
    assert data == {"order": {"id": 7}}
    assert set_path(data, None, "ignored") is data
    assert set_path(data, "$", [1]) == [1]
    with pytest.raises(PathError):
        get_path(data, "$.order.missing")
