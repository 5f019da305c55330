"""Issue 13: payops stays correct under faults. One run (tests/chaos/run.py) of a production-like
payops — uvicorn, two prefork Celery workers and beat, PostgreSQL, a Redis of its own, Stripe's
stateful fake — under a small load while workers are SIGKILLed, Redis is stopped and database
backends are terminated; the tests below judge what the run left behind, each by one rule.

Run alone: ``.venv/bin/python -m pytest tests/chaos -p no:cacheprovider`` (needs PostgreSQL in
DATABASE_URL and redis-server on PATH; skipped otherwise). About two minutes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.chaos.conftest import SUMMARY
from tests.chaos.load import SHOPPER_PATHS, Answer, Ledger
from tests.chaos.run import ChaosRun, run_chaos
from tests.chaos.stack import Database, Stack
from tests.chaos.stripe_truth import StripeTruth
from tests.markers import requires_postgres
from tests.processes import REPO, PrivateRedis

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.worker, requires_postgres]

PAID_ORDER_STATUS = {"paid", "partially_refunded", "refunded"}


@pytest.fixture(scope="module")
def chaos() -> Iterator[ChaosRun]:
    from django.conf import settings

    # The processes' logs stay after the run (var/ is the checkout's own, and not in git).
    workdir = REPO / "var" / "chaos"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    redis = PrivateRedis(workdir)
    truth = StripeTruth()
    truth.start()
    stack = Stack(
        workdir=workdir,
        database=Database.beside(settings.DATABASES["default"]),
        redis=redis,
        stripe_url=truth.url,
    )
    run: ChaosRun | None = None
    try:
        redis.start()
        stack.prepare_database()
        stack.start()
        run = run_chaos(stack, truth, Ledger())
        yield run
    finally:
        stack.stop()
        redis.stop()
        truth.stop()
        stack.database.drop()
        if run is not None:
            SUMMARY[:] = summary(run)  # printed at the end of the session (conftest.py)


def summary(run: ChaosRun) -> list[str]:
    phases = ", ".join(f"{phase} {seconds:.0f}" for phase, seconds in run.phase_seconds.items())
    lines = [f"run took {run.seconds:.0f} s ({phases}); logs in {run.stack.workdir}"]
    for paths in (SHOPPER_PATHS, ("webhook",)):
        counts = run.ledger.statuses(paths=paths)
        by_phase: dict[str, list[str]] = {}
        for (phase, status), n in sorted(counts.items(), key=lambda item: (item[0][0], str(item[0][1]))):
            by_phase.setdefault(phase, []).append(f"{status}x{n}")
        lines += [f"{'/'.join(paths)} [{phase}] {' '.join(parts)}" for phase, parts in by_phase.items()]
    slowest = run.ledger.slowest(paths=SHOPPER_PATHS)
    lines.append("slowest shopper answer: " + ", ".join(f"{phase} {t:.1f} s" for phase, t in slowest.items()))
    if run.snapshot:
        attempts = Counter(row["attempts"] for row in run.snapshot.inbox.values())
        lines.append(f"inbox rows by attempts: {dict(sorted(attempts.items()))}")
    return lines + run.notes


def evidence(run: ChaosRun, answers: list[Answer] = ()) -> str:  # type: ignore[assignment]
    shown = [f"  {a.phase} {a.path} {a.status} {a.detail}" for a in answers[:15]]
    return "\n".join(["", *shown, *summary(run)])


def test_every_acknowledged_webhook_is_processed_exactly_once(chaos: ChaosRun) -> None:
    snapshot = chaos.snapshot
    assert snapshot is not None
    never_acknowledged = sorted(set(chaos.delivered) - chaos.ledger.acknowledged)
    assert not never_acknowledged, evidence(chaos)
    not_processed = {
        event_id: snapshot.inbox.get(event_id)
        for event_id in sorted(chaos.ledger.acknowledged)
        if (snapshot.inbox.get(event_id) or {}).get("status") != "processed"
    }
    assert not not_processed, evidence(chaos)
    # Applied once: no order event written twice (same type, same data) for one webhook event,
    # and one order.paid an order.
    effects = Counter(
        (row["order_id"], row["type"], row["cause_reference"], row["data"])
        for row in snapshot.order_events
        if row["cause"] == "webhook"
    )
    assert not {effect: n for effect, n in effects.items() if n > 1}, evidence(chaos)
    paid = Counter(row["order_id"] for row in snapshot.order_events if row["type"] == "order.paid")
    assert not {order: n for order, n in paid.items() if n > 1}, evidence(chaos)


def test_no_order_has_a_regressed_payment(chaos: ChaosRun) -> None:
    """What Stripe knows at the end is what payops shows: payment status only moves forward,
    received and refunded amounts come from the money, not from whichever event came last."""
    snapshot = chaos.snapshot
    assert snapshot is not None
    payments = {row["intent_id"]: row for row in snapshot.payments if row["intent_id"]}
    orders = {row["id"]: row for row in snapshot.orders}
    wrong = []
    # Every intent both sides know: the ones the run paid (by scenario) and the ones left unpaid.
    for intent_id in sorted(set(chaos.truth.intent_ids()) & set(payments)):
        scenario = chaos.scenarios.get(intent_id, "unpaid")
        intent, refunded = chaos.truth.intent_now(intent_id), chaos.truth.refunded(intent_id)
        if intent["status"] != "succeeded":
            order_status = "awaiting_payment"
        elif refunded == 0:
            order_status = "paid"
        else:
            order_status = "refunded" if refunded >= intent["amount"] else "partially_refunded"
        want = (intent["status"], intent["amount_received"], refunded, order_status)
        payment = payments.get(intent_id)
        got = payment and (
            payment["status"],
            payment["amount_received"],
            payment["amount_refunded"],
            orders[payment["order_id"]]["status"],
        )
        if got != want:
            wrong.append(f"{scenario} {intent_id}: (status, received, refunded, order) {got} should be {want}")
    assert not wrong, "\n".join(wrong) + evidence(chaos)


def test_no_idempotency_key_made_two_orders(chaos: ChaosRun) -> None:
    """Each checkout (its own Idempotency-Key and shopper) ends with exactly the one order it was
    answered with, however often it was retried, and that order holds the PaymentIntent made
    for it."""
    snapshot = chaos.snapshot
    assert snapshot is not None
    orders_by_email: dict[str, list[str]] = {}
    for row in snapshot.orders:
        orders_by_email.setdefault(row["email"], []).append(row["number"])
    wrong = {
        checkout.key: (
            checkout.attempts,
            checkout.order and checkout.order["number"],
            orders_by_email.get(checkout.email),
        )
        for checkout in chaos.checkouts
        if not checkout.order or orders_by_email.get(checkout.email) != [checkout.order["number"]]
    }
    assert not wrong, f"key: (attempts, answered order, orders made) {wrong}" + evidence(chaos)
    # And no PaymentIntent made at Stripe (a voucher the shopper could pay) that no payment knows.
    known = {row["intent_id"] for row in snapshot.payments}
    unknown = sorted(set(chaos.truth.intent_ids()) - known)
    assert not unknown, f"PaymentIntents payops does not know: {unknown}" + evidence(chaos)


def _no_500(chaos: ChaosRun, *phases: str) -> None:
    errors = chaos.ledger.errors(paths=SHOPPER_PATHS, phases=phases)
    assert chaos.ledger.count(paths=SHOPPER_PATHS) > 0
    assert not errors, f"{len(errors)} shopper requests answered 5xx (without Retry-After) or not at all" + evidence(
        chaos, errors
    )


def test_no_500_on_shopper_paths_while_workers_are_killed(chaos: ChaosRun) -> None:
    _no_500(chaos, "calm", "worker-kill", "settle", "final")


def test_no_500_on_shopper_paths_while_redis_is_down(chaos: ChaosRun) -> None:
    _no_500(chaos, "redis-down", "redis-back")


def test_no_500_on_shopper_paths_when_database_backends_are_terminated(chaos: ChaosRun) -> None:
    _no_500(chaos, "db-terminate", "db-back")


def test_only_requests_in_flight_when_backends_are_terminated_may_fail(chaos: ChaosRun) -> None:
    """A request that began after the database dropped its connections finds a working one: a
    failover costs no user-visible error beyond the requests it interrupted (issue 13.7)."""
    assert chaos.terminations
    failed_later = [
        answer
        for answer in chaos.ledger.errors(paths=SHOPPER_PATHS, phases=("db-terminate", "db-back"), retry_after=True)
        if not any(answer.in_flight_at(instant) for instant in chaos.terminations)
    ]
    assert not failed_later, f"{len(failed_later)} shopper requests failed that no termination interrupted" + evidence(
        chaos, failed_later
    )


def test_no_process_dies_unless_killed(chaos: ChaosRun) -> None:
    assert not chaos.stack.crashes, "\n\n".join(
        f"{name} exited {code}:\n{log}" for name, code, log in chaos.stack.crashes
    )
