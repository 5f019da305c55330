"""Order transitions → transactional outbox → EventBridge (moto): events/s, commit-to-publish lag,
entries per PutEvents call, against bare ``put_events`` to the same server in the same run.

Producer threads mark orders paid through payops's own transition service: each commit writes
the order event, its outbox row (and its mail row) and kicks a publisher, as in production.
Publisher threads stand in for Celery workers on the ``outbox`` queue: each kick runs the real
``outbox_publish_due`` (claim with SKIP LOCKED, PutEvents of up to 10 entries, every entry's
result recorded). EventBridge is payops's embedded moto server, in its own process.

Three phases, same server, same detail, same number of sending threads:

1. bare put_events  — 10 entries per call, nothing else: what the server gives at best;
2. outbox drain     — a backlog of committed rows published by the publishers: payops's own
                      cost per event (claim, batch, record) — the ratio to 1 is the figure;
3. live             — transitions committed while publishers run: events/s end to end and the
                      lag from the row's commit to its publication (p50 / p95).

By default the bus has no rules, so moto's rule engine (slow: ~0.2 s per call with the stack's
four rules) does not hide payops's figures; ``--with-stack`` deploys infra/eventbridge.yaml.

    .venv/bin/python bench/outbox.py               # 1000 events per phase, 4 producers, 2 publishers
    .venv/bin/python bench/outbox.py --quick       # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

STATE_FILE = h.ROOT / "var" / "bench-outbox-aws.json"
BENCH_BUS = "payops-bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000, help="events per phase (default 1000)")
    parser.add_argument("--producers", type=int, default=4, help="threads committing transitions (default 4)")
    parser.add_argument("--publishers", type=int, default=2, help="publisher threads, as workers (default 2)")
    parser.add_argument("--with-stack", action="store_true", help="publish to the deployed stack's bus (rules, SQS)")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds per phase at most (default 600)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 events per phase")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.events = min(args.events, 100)
    return args


def seed_orders(count: int, run: str) -> list[int]:
    """Orders awaiting a card payment, written in bulk: no events until the timed moves."""
    from orders.models import Customer, Order, OrderLine, Payment, Product

    product, _ = Product.objects.update_or_create(
        sku="BENCH-OUTBOX",
        defaults={"name": "Outbox benchmark item", "price_amount": 1500, "currency": "JPY", "stock_on_hand": 2**31 - 1},
    )
    customer, _ = Customer.objects.get_or_create(email=f"outbox-bench-{run}@example.com")
    orders = Order.objects.bulk_create(
        Order(customer=customer, status="awaiting_payment", currency="JPY", total_amount=1500, locale="ja")
        for _ in range(count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, product=product, sku=product.sku, name=product.name, unit_price_amount=1500, quantity=1)
        for o in orders
    )
    Payment.objects.bulk_create(
        Payment(order=o, intent_id=f"pi_bench_{run}_{o.pk}", method="card", amount=1500, currency="JPY") for o in orders
    )
    return [o.pk for o in orders]


def run_threads(count: int, target: Callable[[int], None]) -> list[threading.Thread]:
    from django.db import connection

    def body(n: int) -> None:
        try:
            target(n)
        finally:
            connection.close()  # each thread is its own "process" with its own connection

    threads = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join(threads: list[threading.Thread], limit: float) -> None:
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.1))


class Publishers:
    """K publisher threads, each run started by a kick (as a Celery worker by a task)."""

    def __init__(self, count: int) -> None:
        from payops.outbox.publisher import outbox_publish_due

        self.kicks: queue.Queue[bool] = queue.Queue()
        self._publish = outbox_publish_due
        self._threads = run_threads(count, self._loop)

    def kick(self) -> None:
        self.kicks.put(True)

    def _loop(self, _: int) -> None:
        while True:
            try:
                go = self.kicks.get(timeout=0.5)  # half a second of quiet: run anyway, as the sweep would
            except queue.Empty:
                go = True
            if not go:
                return
            self._publish()

    def stop(self) -> None:
        for _ in self._threads:
            self.kicks.put(False)
        join(self._threads, 30)


def commit_transitions(order_ids: list[int], producers: int, limit: float, run: str) -> float:
    from orders.services.order_events import Cause
    from orders.services.transitions import order_mark_paid

    def producer(n: int) -> None:
        for order_id in order_ids[n::producers]:
            order_mark_paid(order_id=order_id, cause=Cause.system(f"bench-{run}"))

    started = time.perf_counter()
    join(run_threads(producers, producer), limit)
    return time.perf_counter() - started


def rows_of(order_ids: list[int]) -> Any:
    from orders.models import Order
    from payops.outbox.models import OutboxEvent

    numbers = list(Order.objects.filter(pk__in=order_ids).values_list("number", flat=True))
    return OutboxEvent.objects.filter(aggregate__in=numbers, detail_type="order.paid")


def wait_published(rows: Any, limit: float) -> None:
    deadline = time.monotonic() + limit
    while rows.exclude(status="published").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def figures(rows: Any, seconds: float, calls: list[int]) -> dict[str, Any]:
    published = rows.filter(status="published")
    lags = [(p - c).total_seconds() for c, p in published.values_list("created_at", "published_at")]
    return {
        "events": rows.count(),
        "published": len(lags),
        "seconds": seconds,
        "per_second": len(lags) / seconds if seconds else float("nan"),
        "lag_p50": percentile(lags, 50),
        "lag_p95": percentile(lags, 95),
        "lag_max": max(lags, default=float("nan")),
        "calls": len(calls),
        "entries_per_call": statistics.fmean(calls) if calls else float("nan"),
    }


def drain_phase(args: argparse.Namespace, order_ids: list[int], run: str, calls: list[int]) -> dict[str, Any]:
    from payops.outbox import services as outbox_services

    outbox_services._kick_publisher = lambda: None  # type: ignore[assignment] - the backlog builds up
    committed_in = commit_transitions(order_ids, args.producers, args.time_limit, run)
    rows = rows_of(order_ids)
    calls.clear()
    started = time.perf_counter()
    publishers = Publishers(args.publishers)
    for _ in range(args.publishers):
        publishers.kick()
    wait_published(rows, args.time_limit)
    seconds = time.perf_counter() - started
    publishers.stop()
    result = figures(rows, seconds, calls)
    result["commits_per_second"] = len(order_ids) / committed_in
    del result["lag_p50"], result["lag_p95"], result["lag_max"]  # the backlog waited on purpose
    return result


def live_phase(args: argparse.Namespace, order_ids: list[int], run: str, calls: list[int]) -> dict[str, Any]:
    from payops.outbox import services as outbox_services

    publishers = Publishers(args.publishers)
    # The after-commit kick reaches a publisher thread instead of a broker: one kick, one run.
    outbox_services._kick_publisher = publishers.kick  # type: ignore[assignment]
    calls.clear()
    started = time.perf_counter()
    commit_transitions(order_ids, args.producers, args.time_limit, run)
    rows = rows_of(order_ids)
    wait_published(rows, args.time_limit)
    seconds = time.perf_counter() - started
    publishers.stop()
    return figures(rows, seconds, calls)


def baseline_phase(args: argparse.Namespace, detail: dict[str, Any], events: int, bus: str) -> dict[str, Any]:
    from payops.aws.client import aws_client

    client = aws_client("events")
    entry = {
        "Source": "payops.orders",
        "DetailType": "order.paid",
        "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
        "EventBusName": bus,
    }
    calls = (events + 9) // 10
    failed: list[int] = []

    def sender(n: int) -> None:
        for _ in range(n, calls, args.publishers):
            failed.append(client.put_events(Entries=[entry] * 10)["FailedEntryCount"])

    started = time.perf_counter()
    join(run_threads(args.publishers, sender), args.time_limit)
    seconds = time.perf_counter() - started
    return {"events": calls * 10, "seconds": seconds, "per_second": calls * 10 / seconds, "failed": sum(failed)}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def count_put_events() -> list[int]:
    """Entries per PutEvents call payops makes, counted on its client as they leave."""
    from payops.aws.client import aws_client

    calls: list[int] = []
    aws_client("events").meta.events.register(
        "before-call.events.PutEvents", lambda params, **kw: calls.append(len(json.loads(params["body"])["Entries"]))
    )
    return calls


def prepare_aws(with_stack: bool) -> tuple[str, str]:
    from django.conf import settings

    from payops.aws.client import aws_client
    from payops.aws.embedded import start_in_background
    from payops.aws.infra import deploy_infrastructure
    from payops.mail import services as mail_services

    # Mail rows are still written in every commit; sending them is another benchmark.
    mail_services._kick_sender = lambda key: None  # type: ignore[assignment]
    server = start_in_background(watch_pid=os.getpid(), log_path=STATE_FILE.with_suffix(".log"))
    if with_stack:
        report = deploy_infrastructure()
        return server.endpoint, f"{report.outputs['BusName']} (stack deployed: 4 rules → SQS, archive)"
    aws_client("events").create_event_bus(Name=BENCH_BUS)
    settings.PAYOPS_EVENT_BUS_NAME = BENCH_BUS
    return server.endpoint, f"{BENCH_BUS} (no rules)"


def main() -> None:
    args = parse_args()
    db = h.prepare_database("payops_bench_outbox")
    env = h.server_env(
        db,
        PAYOPS_AWS="embedded",
        AWS_ENDPOINT_URL="",
        AWS_MAX_ATTEMPTS="3",
        PAYOPS_EMBEDDED_AWS_STATE_FILE=str(STATE_FILE),
        # Other after-commit work (workflow start, live updates) goes to a broker nobody reads.
        REDIS_URL="",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    h.migrate(env)
    h.setup_django(env)
    from django.conf import settings

    endpoint, bus = prepare_aws(args.with_stack)
    h.print_header(
        "Outbox → EventBridge",
        db,
        {
            "moto": f"{endpoint} (payops's embedded server, own process), bus {bus}",
            "load": f"{args.events} events per phase, {args.producers} producer threads, "
            f"{args.publishers} publisher threads (batch {settings.PAYOPS_OUTBOX_BATCH_SIZE})",
            # The machine is shared: how busy it was says how far to trust the absolute figures.
            "loadavg": " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1 / 5 / 15 min, at start)",
        },
    )
    run = h.run_id()
    calls = count_put_events()
    drain = drain_phase(args, seed_orders(args.events, run), run, calls)
    live_ids = seed_orders(args.events, f"{run}-live")
    live = live_phase(args, live_ids, run, calls)
    # The baseline sends a real detail of this run, so both sides carry the same bytes.
    detail = rows_of(live_ids).values_list("detail", flat=True).first() or {}
    baseline = baseline_phase(args, detail, args.events, settings.PAYOPS_EVENT_BUS_NAME)

    def row(label: str, result: dict[str, Any], threads: str, lag: bool) -> list[str]:
        return [
            label,
            f"{result['published']}/{result['events']}",
            threads,
            f"{result['per_second']:.0f}",
            h.ms(result["lag_p50"]) if lag else "-",
            h.ms(result["lag_p95"]) if lag else "-",
            str(result["calls"]),
            f"{result['entries_per_call']:.1f}",
        ]

    h.print_table(
        ["phase", "events", "threads", "events/s", "lag p50 ms", "lag p95 ms", "PutEvents calls", "entries/call"],
        [
            [
                "1 bare put_events (10/call)",
                str(baseline["events"]),
                str(args.publishers),
                f"{baseline['per_second']:.0f}",
                "-",
                "-",
                str(baseline["events"] // 10),
                "10.0",
            ],
            row("2 outbox drain (backlog)", drain, str(args.publishers), lag=False),
            row("3 live: commit → published", live, f"{args.producers}+{args.publishers}", lag=True),
        ],
    )
    print()
    print(f"ratio outbox drain / bare put_events: {h.ratio(drain['per_second'], baseline['per_second'])}")
    print(f"ratio live / bare put_events:         {h.ratio(live['per_second'], baseline['per_second'])}")
    print(f"transitions committed (producers alone): {drain['commits_per_second']:.0f}/s")
    if baseline["failed"]:
        print(f"bare put_events: {baseline['failed']} entries failed")
    h.dump_json(args.json, {"baseline": baseline, "drain": drain, "live": live})


if __name__ == "__main__":
    main()
