"""One chaos run: a small load on a production-like payops while faults are injected, phase by
phase, then everything the run did, read back from the database for the tests to judge.

Phases (the ledger labels every answer with the phase it happened in):

* ``calm``         checkouts with Idempotency-Keys, a few sent twice; readers start.
* ``worker-kill``  webhooks in chosen orders (duplicates, same-second pairs, out-of-order,
                   late snapshots, refunds); pool processes SIGKILLed mid-burst; both workers
                   SIGKILLed while one holds an event half-processed, then started again.
* ``redis-down``   Redis killed: checkouts, reads and webhooks go on; then ``redis-back``.
* ``db-terminate`` every backend of the database terminated three times, two of them under
                   checkouts held between their two transactions; then ``db-back``.
* ``settle``       until every acknowledged event is processed; ``final`` reads every order.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.load import Checkout, Ledger, Reader, Shopper, Stripe
from tests.chaos.seed import PRODUCTS
from tests.chaos.stack import WORKERS, Stack, wait_until
from tests.chaos.stripe_truth import Gate, StripeTruth, charge_refunded_event, intent_event

SKU_FOR_METHOD = {"konbini": "CHAOS-TEA", "bank_transfer": "CHAOS-POT"}
assert set(SKU_FOR_METHOD.values()) <= set(PRODUCTS)


@dataclass
class Snapshot:
    """The chaos database after the run."""

    orders: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    inbox: dict[str, dict[str, Any]]
    order_events: list[dict[str, Any]]


@dataclass
class ChaosRun:
    ledger: Ledger
    truth: StripeTruth
    stack: Stack
    checkouts: list[Checkout] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # event id -> scenario
    scenarios: dict[str, str] = field(default_factory=dict)  # intent id -> scenario
    notes: list[str] = field(default_factory=list)
    snapshot: Snapshot | None = None
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    terminations: list[float] = field(default_factory=list)  # when backends were terminated
    _phase_started: float | None = None
    _keys: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tokens(self) -> list[str]:
        with self._lock:
            return [c.order["token"] for c in self.checkouts if c.order]

    def new_checkout(self, method: str, tag: str) -> Checkout:
        n = next(self._keys)
        checkout = Checkout(key=f"chaos-{tag}-{n}", email=f"shopper-{tag}-{n}@chaos.example", method=method)
        with self._lock:
            self.checkouts.append(checkout)
        return checkout

    def enter(self, phase: str) -> None:
        now = time.monotonic()
        if self._phase_started is not None:
            self.phase_seconds[self.ledger.phase] = now - self._phase_started
        self.ledger.phase, self._phase_started = phase, now

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(f"[{self.ledger.phase}] {text}")


def in_threads(*jobs: Callable[[], Any]) -> list[threading.Thread]:
    threads = [threading.Thread(target=job, daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    return threads


def join(threads: list[threading.Thread], *, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.1))


class Scenarios:
    """Webhook deliveries in chosen orders, each for one paid (or funded) order."""

    def __init__(self, run: ChaosRun, stripe: Stripe) -> None:
        self.run, self.stripe, self.truth = run, stripe, run.truth

    def _deliver(self, event: dict[str, Any], scenario: str) -> bool:
        with self.run._lock:
            self.run.delivered[event["id"]] = scenario
        ok = self.stripe.deliver(event)
        if not ok:
            self.run.note(f"{event['id']} ({scenario}) never acknowledged")
        return ok

    def _processed(self, event_id: str, *, timeout: float = 60) -> bool:
        def done() -> bool:
            rows = self.run.stack.database.rows("SELECT status FROM webhooks_inboxevent WHERE event_id = %s", event_id)
            return bool(rows) and rows[0][0] in ("processed", "ignored")

        ok = wait_until(done, timeout=timeout)
        if not ok:
            self.run.note(f"{event_id} not processed within {timeout} s")
        return ok

    def _intent(self, checkout: Checkout, scenario: str) -> str:
        intent_id = checkout.payment["id"]  # type: ignore[index]
        self.run.scenarios[intent_id] = scenario
        return intent_id

    def duplicate_success(self, checkout: Checkout) -> None:
        """A konbini voucher paid; Stripe delivers the event twice at once, and once more later."""
        intent_id = self._intent(checkout, "duplicate_success")
        event = intent_event("payment_intent.succeeded", self.truth.fund(intent_id, 10**9), created=int(time.time()))
        join(in_threads(lambda: self._deliver(event, "duplicate_success"), lambda: self.stripe.deliver(event)))
        self._deliver(event, "duplicate_success")

    def same_second_funding(self, checkout: Checkout) -> None:
        """Bank transfer funded twice in one second: partially_funded and succeeded share their
        ``created``; succeeded is delivered first, partially_funded 30 ms behind it."""
        intent_id = self._intent(checkout, "same_second_funding")
        amount = self.truth.intent_now(intent_id)["amount"]
        created = int(time.time())
        partial = intent_event(
            "payment_intent.partially_funded", self.truth.fund(intent_id, amount // 2), created=created
        )
        success = intent_event("payment_intent.succeeded", self.truth.fund(intent_id, amount), created=created)
        first = in_threads(lambda: self._deliver(success, "same_second_funding"))
        time.sleep(0.03)  # the second delivery 30 ms behind the first, as observed
        join([*first, *in_threads(lambda: self._deliver(partial, "same_second_funding"))])

    def late_partial_snapshot(self, checkout: Checkout) -> None:
        """After succeeded was applied, the partially_funded snapshot arrives stamped a second
        later: a snapshot of an earlier stage must not replace the terminal one."""
        intent_id = self._intent(checkout, "late_partial_snapshot")
        amount = self.truth.intent_now(intent_id)["amount"]
        created = int(time.time())
        partial = self.truth.fund(intent_id, amount // 2)
        success = intent_event("payment_intent.succeeded", self.truth.fund(intent_id, amount), created=created)
        if self._deliver(success, "late_partial_snapshot") and self._processed(success["id"]):
            late = intent_event("payment_intent.partially_funded", partial, created=created + 1)
            self._deliver(late, "late_partial_snapshot")

    def out_of_order(self, checkout: Checkout) -> None:
        """succeeded (a second later) overtakes the requires_action before it."""
        intent_id = self._intent(checkout, "out_of_order")
        created = int(time.time())
        waiting = intent_event("payment_intent.requires_action", self.truth.intent_now(intent_id), created=created)
        success = intent_event("payment_intent.succeeded", self.truth.fund(intent_id, 10**9), created=created + 1)
        if self._deliver(success, "out_of_order") and self._processed(success["id"]):
            self._deliver(waiting, "out_of_order")

    def same_second_refunds(self, checkout: Checkout) -> None:
        """Paid, then refunded twice within one second; the charge.refunded with both refunds is
        delivered (and applied) before the one with only the first."""
        intent_id = self._intent(checkout, "same_second_refunds")
        success = intent_event("payment_intent.succeeded", self.truth.fund(intent_id, 10**9), created=int(time.time()))
        if not (self._deliver(success, "same_second_refunds") and self._processed(success["id"])):
            return
        intent = self.truth.intent_now(intent_id)
        first = self.truth.refund(intent_id, 300)
        second = self.truth.refund(intent_id, 200)
        created, charge = int(time.time()), f"ch_{intent_id}"
        both = charge_refunded_event(intent, [first, second], created=created, charge_id=charge)
        only_first = charge_refunded_event(intent, [first], created=created, charge_id=charge)
        if self._deliver(both, "same_second_refunds") and self._processed(both["id"]):
            self._deliver(only_first, "same_second_refunds")


def _checkouts(run: ChaosRun, shopper: Shopper, methods: list[str], tag: str) -> list[Checkout]:
    made = [run.new_checkout(method, tag) for method in methods]
    join(in_threads(*(lambda c=c: shopper.checkout(c, sku=SKU_FOR_METHOD[c.method]) for c in made)))
    for checkout in made:
        if checkout.order is None:
            run.note(f"checkout {checkout.key} got no order after {checkout.attempts} attempts")
    return [c for c in made if c.order]


def run_chaos(stack: Stack, truth: StripeTruth, ledger: Ledger) -> ChaosRun:
    started = time.monotonic()
    run = ChaosRun(ledger=ledger, truth=truth, stack=stack)
    shopper, stripe = Shopper(stack.base_url, ledger), Stripe(stack.base_url, ledger)
    scenarios = Scenarios(run, stripe)
    reader = Reader(shopper, run.tokens)

    run.enter("calm")
    konbini = _checkouts(run, shopper, ["konbini"] * 10, "calm")
    bank = _checkouts(run, shopper, ["bank_transfer"] * 6, "calm")
    for checkout in konbini[:3]:  # a double click: the same answer, the same order
        replayed = shopper.replay(checkout, sku=SKU_FOR_METHOD[checkout.method])
        if not replayed or replayed["order"]["number"] != checkout.order["number"]:  # type: ignore[index]
            run.note(f"replay of {checkout.key} answered {replayed and replayed['order']['number']}")
    reader.start()

    run.enter("worker-kill")
    burst = in_threads(
        lambda: scenarios.duplicate_success(konbini[0]),
        lambda: scenarios.duplicate_success(konbini[1]),
        lambda: scenarios.out_of_order(konbini[2]),
        lambda: scenarios.same_second_refunds(konbini[3]),
        lambda: scenarios.same_second_funding(bank[0]),
        lambda: scenarios.same_second_funding(bank[1]),
        lambda: scenarios.late_partial_snapshot(bank[2]),
    )
    wait_until(lambda: len(ledger.acknowledged) >= 3, timeout=30)
    killed = stack.kill_pool_processes("worker-a")
    run.note(f"SIGKILLed {killed} pool processes of worker-a")
    join(burst)
    _kill_workers_mid_event(run, scenarios, bank[3])
    stack.supervise()

    run.enter("redis-down")
    stack.redis.stop(signum=signal.SIGKILL)
    outage = in_threads(
        lambda: _checkouts(run, shopper, ["konbini", "konbini", "bank_transfer"], "redis"),
        lambda: scenarios.duplicate_success(konbini[4]),
        lambda: scenarios.duplicate_success(konbini[5]),
    )
    if not wait_until(
        lambda: (
            ledger.count(phase="redis-down", paths=("checkout",)) >= 3
            and ledger.count(phase="redis-down", paths=("order-api", "order-page")) >= 6
        ),
        timeout=30,
    ):
        run.note("the outage saw fewer shopper requests than planned")
    wait_until(lambda: not outage[1].is_alive() and not outage[2].is_alive(), timeout=20)
    stack.redis.start()
    run.enter("redis-back")
    join(outage)
    for name in WORKERS:
        if not wait_until(lambda n=name: stack.redis_reconnects(n) >= 2, timeout=30):
            run.note(f"{name} did not log a reconnect to Redis")
    # Shoppers right after Redis came back meet the connections that died with it.
    wait_until(lambda: ledger.count(phase="redis-back", paths=("order-api", "order-page")) >= 6, timeout=20)
    stack.supervise()

    run.enter("db-terminate")
    _terminate_backends_under_load(run, shopper, scenarios, konbini)
    run.enter("db-back")
    _checkouts(run, shopper, ["konbini"] * 4, "dbback")
    wait_until(lambda: ledger.count(phase="db-back", paths=("order-api", "order-page")) >= 10, timeout=20)
    stack.supervise()

    run.enter("settle")
    if not wait_until(lambda: _all_acknowledged_processed(run), timeout=100, interval=0.5):
        run.note("some acknowledged events were still unprocessed at the deadline")
    reader.stop()
    stack.supervise()
    run.enter("final")
    for token in run.tokens():
        shopper.read_order(token)
    run.snapshot = read_snapshot(stack)
    run.enter("done")
    run.seconds = time.monotonic() - started
    return run


def _kill_workers_mid_event(run: ChaosRun, scenarios: Scenarios, checkout: Checkout) -> None:
    """Both workers (and their pools) SIGKILLed while one of them is inside an event's handler:
    the suite holds the order's row lock from a connection of its own, so the handler waits on
    it with the event claimed. The lease runs out; the sweep hands the row to the restarted
    workers."""
    stack, truth = run.stack, run.truth
    intent_id = scenarios._intent(checkout, "killed_mid_event")
    success = intent_event("payment_intent.succeeded", truth.fund(intent_id, 10**9), created=int(time.time()))
    with stack.database.order_locked(checkout.order["number"]):  # type: ignore[index]
        scenarios._deliver(success, "killed_mid_event")
        reached = wait_until(lambda: stack.database.lock_waiters() > 0, timeout=20)
        for name in WORKERS:
            stack.services[name].kill_group()
    run.note(
        "both workers SIGKILLed "
        + ("while one waited inside an event's handler" if reached else "(no handler was seen waiting)")
    )
    for name in WORKERS:
        stack.restart(name)


def _terminate_backends_under_load(
    run: ChaosRun, shopper: Shopper, scenarios: Scenarios, konbini: list[Checkout]
) -> None:
    """Two checkouts are held after their order committed (at Stripe's answer) while every
    backend is terminated; then twice more under webhooks and reads, each time just after six
    reads at once."""
    stack, truth, ledger = run.stack, run.truth, run.ledger
    held = [run.new_checkout("konbini", "held") for _ in range(2)]
    gates = [truth.create_gates.setdefault(c.email, Gate()) for c in held]
    work = in_threads(
        *(lambda c=c: shopper.checkout(c, sku=SKU_FOR_METHOD[c.method]) for c in held),
        lambda: scenarios.duplicate_success(konbini[6]),
        lambda: scenarios.duplicate_success(konbini[7]),
    )
    if not all(gate.arrived.wait(30) for gate in gates):
        run.note("a held checkout never reached Stripe")
    for round in range(3):
        if round > 0:
            # Six shoppers at once: the server's pool then holds six connections, idle when
            # the backends are terminated (the first round has the held checkouts for that).
            tokens = run.tokens()[:6]
            join(in_threads(*(lambda t=t: shopper.read_order(t) for t in tokens)))
        mark = ledger.count(paths=("order-api", "order-page", "webhook"))
        run.terminations.append(time.monotonic())
        run.note(f"terminated {stack.database.terminate_backends()} backends (round {round + 1})")
        if round == 0:
            for gate in gates:
                gate.opened.set()
        wait_until(lambda m=mark: ledger.count(paths=("order-api", "order-page", "webhook")) >= m + 5, timeout=20)
    join(work)
    for checkout in held:
        if checkout.order is None:
            run.note(f"held checkout {checkout.key} got no order after {checkout.attempts} attempts")


def _all_acknowledged_processed(run: ChaosRun) -> bool:
    run.stack.supervise()
    ids = sorted(run.ledger.acknowledged)
    rows = run.stack.database.rows(
        "SELECT count(*) FROM webhooks_inboxevent WHERE event_id = ANY(%s) AND status IN ('processed', 'ignored')",
        ids,
    )
    return rows[0][0] == len(ids)


def read_snapshot(stack: Stack) -> Snapshot:
    db = stack.database

    def dicts(query: str, *names: str) -> list[dict[str, Any]]:
        return [dict(zip(names, row, strict=True)) for row in db.rows(query)]

    orders = dicts(
        "SELECT o.id, o.number, o.token, o.status, c.email FROM orders_order o "
        "JOIN orders_customer c ON c.id = o.customer_id",
        *("id", "number", "token", "status", "email"),
    )
    payments = dicts(
        "SELECT order_id, intent_id, status, amount, amount_received, amount_refunded FROM orders_payment",
        *("order_id", "intent_id", "status", "amount", "amount_received", "amount_refunded"),
    )
    inbox = dicts(
        "SELECT event_id, type, status, attempts, last_error FROM webhooks_inboxevent",
        *("event_id", "type", "status", "attempts", "last_error"),
    )
    events = dicts(
        "SELECT order_id, type, cause, cause_reference, data::text FROM orders_orderevent",
        *("order_id", "type", "cause", "cause_reference", "data"),
    )
    return Snapshot(orders=orders, payments=payments, inbox={r["event_id"]: r for r in inbox}, order_events=events)
