"""docs/events.md is the contract: its schemas validate its examples and what payops publishes."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import transaction
from jsonschema import Draft202012Validator

from orders.services.fulfilment import order_mark_shipped, order_start_fulfilment
from orders.services.order_events import Cause, record_order_event
from orders.services.transitions import lock_order, order_mark_needs_attention, order_mark_refunded
from orders.state_machine import TRANSITIONS
from payops.outbox.publisher import outbox_publish_due
from tests.outbox.helpers import card_order_paid, konbini_order_paid

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = (ROOT / "docs" / "events.md").read_text()
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)


def _common_schema() -> dict[str, Any]:
    section = CATALOGUE.split("## The detail\n", 1)[1].split("\n## ", 1)[0]
    return json.loads(_JSON_BLOCK.search(section).group(1))


def _types() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """detail-type -> (its data schema, its example detail)."""
    types = {}
    for section in CATALOGUE.split("\n### `")[1:]:
        name = section.split("`", 1)[0]
        data_schema, example = (json.loads(block) for block in _JSON_BLOCK.findall(section)[:2])
        types[name] = (data_schema, example)
    return types


COMMON = _common_schema()
TYPES = _types()


def validator_for(detail_type: str) -> Draft202012Validator:
    schema = copy.deepcopy(COMMON)
    schema["properties"]["data"] = TYPES[detail_type][0]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(detail_type: str, detail: dict[str, Any]) -> None:
    assert detail_type in TYPES, f"{detail_type} is published but not in docs/events.md"
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator_for(detail_type).iter_errors(detail)]
    assert errors == [], f"{detail_type}: {errors}"


def test_the_catalogue_schemas_are_valid_and_its_examples_follow_them():
    Draft202012Validator.check_schema(COMMON)
    assert len(TYPES) >= 20
    for detail_type, (data_schema, example) in TYPES.items():
        Draft202012Validator.check_schema(data_schema)
        assert_valid(detail_type, example)


def test_every_status_an_order_can_reach_has_its_event_in_the_catalogue():
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    assert {f"order.{status}" for status in reachable} | {"order.created"} <= set(TYPES)


def test_every_detail_type_a_rule_routes_is_in_the_catalogue():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # !Ref, !GetAtt, ...
    template = yaml.load((ROOT / "infra" / "eventbridge.yaml").read_text(), Loader=Loader)  # a SafeLoader subclass
    routed = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Events::Rule":
            routed |= {t for t in resource["Properties"]["EventPattern"]["detail-type"] if isinstance(t, str)}
    assert routed and routed <= set(TYPES)


@pytest.mark.django_db
def test_what_payops_publishes_matches_the_catalogue(stack, aws):
    # a spread of real transitions and facts
    konbini = konbini_order_paid(amount=60_000)
    card = card_order_paid()
    order_start_fulfilment(order_id=card.pk, cause=Cause.system("test"))
    order_mark_shipped(order_id=card.pk, cause=Cause.system("test"), carrier="Sagawa", tracking_number="42")
    with transaction.atomic():
        record_order_event(
            order=lock_order(konbini.pk),
            type="refund.succeeded",
            cause=Cause.webhook("evt_refund"),
            data={"refund_id": "re_1", "amount": 10_000, "failure_reason": ""},
        )
        record_order_event(
            order=lock_order(card.pk),
            type="fulfilment.requested",
            cause=Cause.system("workflow"),
            data={"lines": [{"sku": "TEA", "quantity": 1}]},
        )
    order_mark_refunded(order_id=konbini.pk, cause=Cause.system("test"), data={"amount_refunded": 10_000}, partial=True)
    order_mark_needs_attention(order_id=konbini.pk, cause=Cause.system("test"), reason="stock_missing")

    assert outbox_publish_due().published == 9

    # the stack's archive holds every event the bus received, whichever rules matched
    (archive,) = aws.state()["events"]["Archive"]
    published = [(event["detail-type"], event["detail"]) for event in archive["events"]]
    assert sorted(detail_type for detail_type, _ in published) == [
        "fulfilment.requested",
        "order.awaiting_payment",
        "order.fulfilling",
        "order.needs_attention",
        "order.paid",
        "order.paid",
        "order.partially_refunded",
        "order.shipped",
        "refund.succeeded",
    ]
    for detail_type, detail in published:
        assert_valid(detail_type, detail)
