"""Evaluating Choice rules on an execution's data, with ASL's typing: a comparison between a
value and a constant of another type is simply false, and a missing variable matches nothing
but ``IsPresent: false``."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from payops.workflow.definition import And, Choice, Compare, Condition, Not, Or
from payops.workflow.paths import PathError, get_path, has_path

_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "NumericEquals": operator.eq,
    "NumericGreaterThan": operator.gt,
    "NumericGreaterThanEquals": operator.ge,
    "NumericLessThan": operator.lt,
    "NumericLessThanEquals": operator.le,
}


def choose(choice: Choice, data: Any) -> str | None:
    """The first rule that matches decides; else the default (None: ASL's States.NoChoiceMatched)."""
    for rule in choice.rules:
        if matches(rule.condition, data):
            return rule.next
    return choice.default


def matches(condition: Condition, data: Any) -> bool:
    if isinstance(condition, And):
        return all(matches(c, data) for c in condition.conditions)
    if isinstance(condition, Or):
        return any(matches(c, data) for c in condition.conditions)
    if isinstance(condition, Not):
        return not matches(condition.condition, data)
    return _compare(condition, data)


def _compare(rule: Compare, data: Any) -> bool:
    present = has_path(data, rule.variable)
    if rule.op == "IsPresent":
        return present == bool(rule.value)
    if not present:
        return False
    value = get_path(data, rule.variable)
    if rule.op == "IsNull":
        return (value is None) == bool(rule.value)
    try:
        expected = get_path(data, rule.value_path) if rule.value_path else rule.value
    except PathError:
        return False
    if rule.op == "BooleanEquals":
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if rule.op == "StringEquals":
        return isinstance(value, str) and isinstance(expected, str) and value == expected
    if rule.op in _NUMERIC:
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, expected))
        return numbers and _NUMERIC[rule.op](value, expected)
    return False
