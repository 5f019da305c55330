import pytest

from payops.workflow.definition import And, Choice, Compare, Not, Or, Rule
from payops.workflow.rules import choose, matches

DATA = {"amount": 120_000, "limit": 100_000, "review": {"open": True}, "risk": "elevated", "note": None}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Compare("$.review.open", "BooleanEquals", True), True),
        (Compare("$.review.open", "BooleanEquals", False), False),
        (Compare("$.risk", "StringEquals", "elevated"), True),
        (Compare("$.amount", "NumericGreaterThan", 100_000), True),
        (Compare("$.amount", "NumericLessThanEquals", 100_000), False),
        (Compare("$.amount", "NumericGreaterThan", value_path="$.limit"), True),
        (Compare("$.limit", "NumericGreaterThanEquals", value_path="$.amount"), False),
        # ASL typing: comparing across types is false, not an error
        (Compare("$.risk", "NumericEquals", 1), False),
        (Compare("$.amount", "StringEquals", "120000"), False),
        (Compare("$.review.open", "NumericEquals", 1), False),
        (Compare("$.missing", "BooleanEquals", True), False),
        (Compare("$.missing", "IsPresent", False), True),
        (Compare("$.note", "IsNull", True), True),
        (Compare("$.amount", "NumericGreaterThan", value_path="$.missing"), False),
        (And((Compare("$.review.open", "BooleanEquals", True), Compare("$.risk", "StringEquals", "normal"))), False),
        (Or((Compare("$.review.open", "BooleanEquals", False), Compare("$.risk", "StringEquals", "elevated"))), True),
        (Not(Compare("$.risk", "StringEquals", "elevated")), False),
    ],
)
def test_conditions(condition, expected):
    assert matches(condition, DATA) is expected


def test_the_first_matching_rule_wins_else_the_default():
    choice = Choice(
        rules=(
            Rule(Compare("$.amount", "NumericGreaterThan", 1_000_000), "Huge"),
            Rule(Compare("$.amount", "NumericGreaterThan", 100_000), "Large"),
            Rule(Compare("$.amount", "NumericGreaterThan", 0), "Any"),
        ),
        default="Default",
    )
    assert choose(choice, DATA) == "Large"
    assert choose(choice, {"amount": 0}) == "Default"
    assert choose(Choice(rules=choice.rules), {"amount": 0}) is None
