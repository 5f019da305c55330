"""Stripe's events for one order, delivered in any order, twice through the inbox and twice
straight to the handlers, end where the rules say — checked against an oracle, not against an
in-order run of the same code.

What the oracle knows (README.md "The main path" and "Order lifecycle", ADRs 0004 and 0009):
* the payment ends as Stripe last had it: succeeded, everything received;
* refunds are facts by their id: each ends in its last status, and the refunded total is the sum
  of the refunds that were not turned down, whatever order (or second) the charge totals came in;
* the dispute ends as closed; won returns the order to where it was, lost ends it refunded;
* every order move is one the lifecycle allows, one after the other from where the order started,
  money arrives once, and nothing that did not happen (a failure, an expiry, a full refund) shows;
* each fact (partial funding, review, refund outcome, dispute opened/closed) is recorded once.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orders.models import Dispute, Order, Payment, Product, Refund
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action, payment_intent_json
from tests.orders.lifecycle_spec import ALLOWED, UNPAID
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver
from webhooks.handlers import StripeEvent, stripe_handle, stripe_prepare

T0 = int(time.time()) - 20_000
AMOUNT = 6000
STOCK = 3
INTENT = "pi_stream"


def _intent(status: str, **overrides: Any) -> dict[str, Any]:
    return intent_object(INTENT, status=status, amount=AMOUNT, payment_method_types=["customer_balance"], **overrides)


def _transfer(remaining: int) -> dict[str, Any]:
    return _intent("requires_action", next_action=bank_transfer_next_action(remaining))


def _refund(refund_id: str, amount: int, status: str) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "jpy",
        "status": status,
        "payment_intent": INTENT,
        "charge": "ch_stream",
        "metadata": {},
        "failure_reason": "lost_or_stolen_card" if status == "failed" else None,
    }


def _charge(amount_refunded: int, refunds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "ch_stream",
        "object": "charge",
        "payment_intent": INTENT,
        "amount": AMOUNT,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= AMOUNT,
        "refunds": {"object": "list", "data": refunds},
    }


def _dispute(status: str) -> dict[str, Any]:
    return {
        "id": "dp_stream",
        "object": "dispute",
        "payment_intent": INTENT,
        "charge": "ch_stream",
        "amount": AMOUNT,
        "currency": "jpy",
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": T0 + 999_999},
    }


def _review(kind: str) -> dict[str, Any]:
    return {
        "id": "prv_stream",
        "object": "review",
        "payment_intent": INTENT,
        "open": kind == "opened",
        "reason": "rule" if kind == "opened" else "approved",
    }


def _event(n: int, type: str, obj: dict[str, Any], at: int) -> dict[str, Any]:
    return stripe_event(type, obj, created=T0 + at, event_id=f"evt_s{n:02}")


# --- what happened, in the order it happened ------------------------------------------------------


# A bank transfer funded in two parts in one second, then fully (later, or in that same second:
# Stripe is then asked which snapshot is current); a Radar review; two refunds made
# within one second (two charge totals with the same `created`) and a third that Stripe fails.
def _payment(succeeded_at: int) -> list[dict[str, Any]]:
    return [
        _event(1, "payment_intent.requires_action", _transfer(6000), 0),
        _event(2, "payment_intent.partially_funded", _transfer(3500), 10),
        _event(3, "payment_intent.partially_funded", _transfer(1000), 10),
        _event(4, "payment_intent.succeeded", _intent("succeeded"), succeeded_at),
        _event(5, "review.opened", _review("opened"), 21),
        _event(6, "review.closed", _review("closed"), 22),
    ]


REFUNDS = [
    _event(11, "refund.created", _refund("re_1", 2000, "pending"), 30),
    _event(12, "charge.refunded", _charge(2000, [_refund("re_1", 2000, "pending")]), 30),
    _event(13, "refund.created", _refund("re_2", 1000, "pending"), 30),
    _event(14, "charge.refunded", _charge(3000, [_refund("re_1", 2000, "pending"), _refund("re_2", 1000, "pending")]),
           30),
    _event(15, "refund.updated", _refund("re_1", 2000, "succeeded"), 35),
    _event(16, "refund.updated", _refund("re_2", 1000, "succeeded"), 36),
    _event(17, "refund.created", _refund("re_3", 500, "pending"), 40),
    _event(18, "refund.failed", _refund("re_3", 500, "failed"), 45),
]  # fmt: skip


def _disputes(outcome: str) -> list[dict[str, Any]]:
    return [
        _event(21, "charge.dispute.created", _dispute("needs_response"), 50),
        _event(22, "charge.dispute.updated", _dispute("under_review"), 55),
        _event(23, "charge.dispute.closed", _dispute(outcome), 60),
    ]


# --- the oracle --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    start: str  # the order's status before the first event
    status: str
    refunds: dict[str, tuple[int, str]]
    dispute: str
    facts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def refunded(self) -> int:
        return sum(amount for amount, status in self.refunds.values() if status not in ("failed", "canceled"))


def expected_for(scenario: str, outcome: str) -> Expected:
    refunds = {"re_1": (2000, "succeeded"), "re_2": (1000, "succeeded"), "re_3": (500, "failed")}
    facts: Counter[tuple[str, str]] = Counter(
        {
            ("refund.succeeded", "re_1"): 1,
            ("refund.succeeded", "re_2"): 1,
            ("refund.failed", "re_3"): 1,
            ("dispute.opened", "dp_stream"): 1,
            ("dispute.closed", "dp_stream"): 1,
        }
    )
    if scenario != "after shipment":
        facts += Counter(
            {
                ("payment.partially_funded", "evt_s02"): 1,
                ("payment.partially_funded", "evt_s03"): 1,
                ("payment.review_opened", "prv_stream"): 1,
                ("payment.review_closed", "prv_stream"): 1,
            }
        )
    # 3,000 of 6,000 refunded: partly. A lost dispute gives the shopper everything back.
    status = "refunded" if outcome == "lost" else "partially_refunded"
    start = "shipped" if scenario == "after shipment" else "awaiting_payment"
    return Expected(start=start, status=status, refunds=refunds, dispute=outcome, facts=facts)


def stream_for(scenario: str, outcome: str) -> list[dict[str, Any]]:
    before = {"from checkout": _payment(20), "funded in one second": _payment(10)}.get(scenario, [])
    return [*before, *REFUNDS, *_disputes(outcome)]


# --- running a delivery plan ----------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _fact_key(event_type: str, data: dict[str, Any], cause: str) -> tuple[str, str]:
    if event_type.startswith("refund."):
        return (event_type, data.get("refund_id", ""))
    if event_type.startswith("dispute."):
        return (event_type, data.get("dispute", ""))
    if event_type.startswith("payment.review"):
        return (event_type, data.get("review", ""))
    return (event_type, cause)


def run_plan(scenario: str, plan: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Deliver ``plan`` to a fresh order and return everything it left, then roll it all back."""
    seen: dict[str, Any] = {}
    try:
        with transaction.atomic():
            product = make_product(price_amount=AMOUNT, stock_on_hand=STOCK)
            if scenario != "after shipment":
                order = make_order(status="awaiting_payment", product=product)
                make_payment(order, intent_id=INTENT, method="bank_transfer", status="requires_action", amount=AMOUNT)
            else:
                order = make_order(status="shipped", product=product)
                make_payment(
                    order, intent_id=INTENT, method="bank_transfer", status="succeeded", amount=AMOUNT,
                    amount_received=AMOUNT, last_event_created=T0 + 20,
                )  # fmt: skip
            for route, event in plan:
                if route == "inbox":
                    row = deliver(event)
                    assert row.status == "processed", (event["id"], row.last_error)
                else:  # the same payload straight to the handler, as a worker would after the inbox
                    stripe_handle(stripe_prepare(StripeEvent.from_payload(event)))
            order = Order.objects.get(pk=order.pk)
            payment = Payment.objects.get(order=order)
            events = list(order.events.order_by("sequence"))
            seen = {
                "status": order.status,
                "payment": (payment.status, payment.amount_received, payment.amount_remaining, payment.review_open),
                "amount_refunded": payment.amount_refunded,
                "refunds": {r.refund_id: (r.amount, r.status) for r in Refund.objects.filter(payment=payment)},
                "disputes": list(Dispute.objects.filter(payment=payment).values_list("dispute_id", "status")),
                "stock_available": Product.objects.get(pk=product.pk).stock_available,
                "sequences": [e.sequence for e in events],
                "moves": [(e.type, e.from_status, e.to_status) for e in events if e.type.startswith("order.")],
                "facts": Counter(
                    _fact_key(e.type, e.data, e.cause_reference) for e in events if not e.type.startswith("order.")
                ),
            }
            raise _Rollback
    except _Rollback:
        pass
    return seen


def check_against_oracle(seen: dict[str, Any], expected: Expected) -> None:
    assert seen["status"] == expected.status
    assert seen["payment"] == ("succeeded", AMOUNT, None, False)
    assert seen["refunds"] == expected.refunds
    assert seen["disputes"] == [("dp_stream", expected.dispute)]
    assert seen["stock_available"] == STOCK - 1  # the order's unit stays with it, reserved once
    assert seen["facts"] == expected.facts
    assert seen["sequences"] == list(range(1, len(seen["sequences"]) + 1))

    moves = seen["moves"]
    # one move after another from where the order started, each allowed, to the final status
    path = [expected.start] + [to for _type, _from, to in moves]
    assert [(f, t) for _type, f, t in moves] == list(itertools.pairwise(path))
    assert all(kind == f"order.{to}" for kind, _f, to in moves)
    assert [move for move in itertools.pairwise(path) if move not in ALLOWED] == []
    assert path[-1] == expected.status
    # money arrived once; nothing happened that did not
    assert sum(1 for f, t in itertools.pairwise(path) if f in UNPAID and t == "paid") == (
        1 if expected.start in UNPAID else 0
    )
    assert not {"payment_failed", "expired", "cancelled", "needs_attention", "awaiting_payment"} & set(path[1:])
    if expected.dispute == "won":
        assert "refunded" not in path  # 3,000 of 6,000 was never a full refund
    assert path.count("disputed") <= 1


@st.composite
def delivery_plans(draw: st.DrawFn, stream: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    plan = [("inbox", event) for event in draw(st.permutations(stream))]
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        route = draw(st.sampled_from(["inbox", "handler"]))
        plan.insert(draw(st.integers(min_value=0, max_value=len(plan))), (route, draw(st.sampled_from(stream))))
    return plan


def _in_order(scenario: str, outcome: str) -> list[tuple[str, dict[str, Any]]]:
    return [("inbox", event) for event in stream_for(scenario, outcome)]


def _newest_total_first(scenario: str, outcome: str) -> list[tuple[str, dict[str, Any]]]:
    """The two charge totals of one second arrive newest first; the failed refund before its creation."""
    stream = stream_for(scenario, outcome)
    by_id = {e["id"]: e for e in stream}
    order = [e["id"] for e in stream]
    order.remove("evt_s12")
    order.insert(order.index("evt_s14") + 1, "evt_s12")
    order.remove("evt_s18")
    order.insert(order.index("evt_s17"), "evt_s18")
    return [("inbox", by_id[i]) for i in order] + [("handler", by_id["evt_s12"])]


@pytest.fixture
def stripe_now(fake_stripe):
    """Stripe, asked about the intent (two same-second snapshots disagree), has it succeeded."""
    fake_stripe.responder = lambda request: (
        200,
        payment_intent_json(
            id=INTENT,
            status="succeeded",
            amount=AMOUNT,
            amount_received=AMOUNT,
            payment_method_types=["customer_balance"],
        ),
    )
    return fake_stripe


SCENARIOS = [
    pytest.param("from checkout", "won", id="checkout-won"),
    pytest.param("from checkout", "lost", id="checkout-lost"),
    pytest.param("funded in one second", "won", id="one-second-won"),
    pytest.param("after shipment", "won", id="shipped-won"),
    pytest.param("after shipment", "lost", id="shipped-lost"),
]

_hypothesis = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "outcome"), SCENARIOS)
def test_the_stream_in_the_order_it_happened_ends_as_the_rules_say(scenario, outcome, stripe_now):
    seen = run_plan(scenario, _in_order(scenario, outcome))
    check_against_oracle(seen, expected_for(scenario, outcome))


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "outcome"), SCENARIOS)
def test_the_stream_backwards_and_replayed_ends_as_the_rules_say(scenario, outcome, stripe_now):
    # every event after the ones it follows, each delivered twice and once more to its handler
    backwards = list(reversed(stream_for(scenario, outcome)))
    plan = [(route, event) for event in backwards for route in ("inbox", "inbox", "handler")]
    check_against_oracle(run_plan(scenario, plan), expected_for(scenario, outcome))


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "outcome"), SCENARIOS)
def test_any_arrival_order_with_redeliveries_ends_as_the_rules_say(scenario, outcome, stripe_now):
    @_hypothesis
    @given(plan=delivery_plans(stream_for(scenario, outcome)))
    @example(plan=_newest_total_first(scenario, outcome))
    def arrival_orders(plan):
        check_against_oracle(run_plan(scenario, plan), expected_for(scenario, outcome))

    arrival_orders()


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "outcome"), SCENARIOS[:1])
def test_the_refunded_total_comes_from_the_refunds_whatever_the_arrival_order(scenario, outcome, stripe_now):
    @_hypothesis
    @given(plan=delivery_plans(stream_for(scenario, outcome)))
    @example(plan=_newest_total_first(scenario, outcome))
    def arrival_orders(plan):
        seen = run_plan(scenario, plan)
        assert seen["amount_refunded"] == expected_for(scenario, outcome).refunded

    arrival_orders()


# --- late money after a decline ----------------------------------------------------------------------

# A card declined at 3-D Secure, retried, and paid; then refunded in full.
DECLINED_THEN_PAID = [
    _event(31, "payment_intent.requires_action", _intent("requires_action"), 0),
    _event(32, "payment_intent.payment_failed", _intent("requires_payment_method",
           last_payment_error={"code": "card_declined", "message": "Your card was declined."}), 5),
    _event(33, "payment_intent.requires_action", _intent("requires_action"), 8),
    _event(34, "payment_intent.succeeded", _intent("succeeded"), 10),
    _event(35, "charge.refunded", _charge(AMOUNT, [_refund("re_9", AMOUNT, "succeeded")]), 20),
]  # fmt: skip


def check_declined_then_paid(seen: dict[str, Any]) -> None:
    # the money arrived, all of it went back; the failure, if it showed, came before the money
    assert seen["status"] == "refunded"
    assert seen["payment"] == ("succeeded", AMOUNT, None, False)
    assert (seen["amount_refunded"], seen["refunds"]) == (AMOUNT, {"re_9": (AMOUNT, "succeeded")})
    assert seen["stock_available"] == STOCK - 1  # released at the decline, taken again with the money
    path = ["awaiting_payment"] + [to for _type, _from, to in seen["moves"]]
    assert [move for move in itertools.pairwise(path) if move not in ALLOWED] == []
    assert path.count("paid") == 1 and path[-1] == "refunded"
    assert path.count("payment_failed") <= 1
    if "payment_failed" in path:
        assert path.index("payment_failed") < path.index("paid")
    assert seen["facts"] == Counter({("refund.succeeded", "re_9"): 1})


@pytest.mark.django_db
def test_a_decline_then_the_money_in_the_order_it_happened(stripe_now):
    check_declined_then_paid(run_plan("declined then paid", [("inbox", e) for e in DECLINED_THEN_PAID]))


@pytest.mark.django_db
def test_late_money_after_a_decline_in_any_arrival_order(stripe_now):
    @_hypothesis
    @given(plan=delivery_plans(DECLINED_THEN_PAID))
    @example(plan=[("inbox", e) for e in reversed(DECLINED_THEN_PAID)])
    def arrival_orders(plan):
        check_declined_then_paid(run_plan("declined then paid", plan))

    arrival_orders()
