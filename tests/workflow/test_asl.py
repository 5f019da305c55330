"""Exporting a definition as Amazon States Language, checked with the ASL parser Step Functions'
emulators use (moto's copy of LocalStack's), so the export is deployable, not just JSON."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from payops.workflow.asl import lambda_arn_for, to_asl
from payops.workflow.definition import (
    And,
    Approval,
    Catch,
    Choice,
    Compare,
    Fail,
    Not,
    Retry,
    Rule,
    Succeed,
    Task,
    Wait,
    Workflow,
)


def reserve_stock(ctx):
    return None


def await_parcel(ctx):
    return None


EVERY_KIND = Workflow(
    "every_kind",
    "Reserve",
    {
        "Reserve": Task(
            run=reserve_stock,
            result_path="$.stock",
            retry=(Retry(("Unavailable",), interval_seconds=0.5, max_attempts=4, jitter="FULL", max_delay_seconds=60),),
            catch=(Catch(("States.ALL",), next="Failed", result_path="$.error"),),
            next="Route",
        ),
        "Route": Choice(
            rules=(
                Rule(
                    And(
                        (
                            Compare("$.total", "NumericGreaterThan", value_path="$.limit"),
                            Not(Compare("$.vip", "IsPresent", True)),
                        )
                    ),
                    "Review",
                ),
            ),
            default="Ship",
        ),
        "Review": Approval(on_approve="Ship", on_reject="Failed", timeout_seconds=3600, prompt="Ship it?"),
        "Ship": Task(
            run=await_parcel, callback=True, callback_timeout_seconds=86400, result_path="$.parcel", next="Cool"
        ),
        "Cool": Wait(seconds_path="$.cooling", next="Done"),
        "Done": Succeed(),
        "Failed": Fail(error="Order.Failed", cause="see the timeline"),
    },
)


def test_every_state_kind_exports_to_asl_the_parser_accepts():
    asl = to_asl(EVERY_KIND, function_arn=lambda_arn_for(region="ap-northeast-1", account="123456789012"))
    AmazonStateLanguageParser.parse(json.dumps(asl))  # raises on anything Step Functions would refuse

    states = asl["States"]
    assert asl["StartAt"] == "Reserve"
    assert states["Reserve"]["Resource"] == "arn:aws:lambda:ap-northeast-1:123456789012:function:payops-reserve-stock"
    assert states["Reserve"]["Retry"] == [
        {
            "ErrorEquals": ["Unavailable"],
            "IntervalSeconds": 1,
            "MaxAttempts": 4,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
        }
    ]
    assert states["Reserve"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}]
    assert states["Route"]["Choices"][0]["And"][0] == {"Variable": "$.total", "NumericGreaterThanPath": "$.limit"}
    assert states["Ship"]["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert states["Ship"]["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    # An Approval is a token task, a Pass for the timeout default and a Choice on the decision.
    assert states["Review"]["TimeoutSeconds"] == 3600
    assert states["Review"]["Catch"][0]["Next"] == "ReviewTimedOut"
    assert states["ReviewTimedOut"]["Result"] == {"decision": "rejected"}
    assert states["ReviewDecision"]["Choices"][0] == {
        "Variable": "$.approval.decision",
        "StringEquals": "approved",
        "Next": "Ship",
    }
    assert states["ReviewDecision"]["Default"] == "Failed"
    assert states["Cool"] == {"Type": "Wait", "SecondsPath": "$.cooling", "Next": "Done"}


@pytest.mark.django_db
def test_the_command_prints_the_asl(registered):
    registered(EVERY_KIND)
    out = StringIO()
    call_command("workflow", "asl", "every_kind", "--account", "999999999999", "--region", "us-east-1", stdout=out)
    asl = json.loads(out.getvalue())
    assert asl["States"]["Reserve"]["Resource"].startswith("arn:aws:lambda:us-east-1:999999999999:function:")
