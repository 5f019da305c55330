"""Concurrent checkouts against a real payops server → orders/s and latency percentiles.

payops runs as production runs it (uvicorn, several processes, PostgreSQL when available); its
Stripe gateway talks HTTP to payops's own payment simulator, so every checkout pays for the
real work: stock row locks, the order transaction, a PaymentIntent over HTTP, and the webhooks
the simulator sends back. In the same run, the same load against ``/healthz`` (one ``SELECT 1``)
measures what this machine gives the server at all; the ratio is the figure to compare.

    .venv/bin/python bench/checkout.py            # 1000 checkouts, 16 concurrent
    .venv/bin/python bench/checkout.py --quick    # a smoke run of a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SIMULATOR_PAYMENT_INTENTS = "/simulator/stripe/v1/payment_intents"
METHODS = ("konbini", "card")  # alternated: konbini makes a confirmed intent plus a webhook, card neither
BENCH_PRODUCTS = [(f"BENCH-CHECKOUT-{n:02d}", 800 + 400 * n) for n in range(1, 9)]
# Far more than any run sells, so no checkout fails for stock (PositiveIntegerField tops at 2**31-1).
BENCH_STOCK = 1_000_000_000
WARMUP_CHECKOUTS = 20
CHECKOUT_THROTTLE = "100000/sec"
CHECKOUT_REDIS_URL = "redis://127.0.0.1:6379/13"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=1000, help="checkouts to send (default 1000)")
    parser.add_argument(
        "--baseline-requests", type=int, default=3000, help="requests to the baseline endpoint (default 3000)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2, one per core)")
    parser.add_argument("--time-limit", type=float, default=180, help="seconds per phase at most (default 180)")
    parser.add_argument(
        "--baseline-path", default="/healthz", help="the trivial endpoint to compare with (default /healthz)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 checkouts, 300 baseline requests")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.checkouts, args.baseline_requests = min(args.checkouts, 100), min(args.baseline_requests, 300)
    return args


def broker_env() -> tuple[dict[str, str], str]:
    """Queue side effects in Redis, as production does, so the web tier is measured alone.

    Without Redis the embedded profile runs every task (webhook processing, outbox, mail)
    inline after commit, inside the request being timed; the header says which one ran.
    """
    try:
        h.reset_redis_database(CHECKOUT_REDIS_URL)
    except h.HarnessError as exc:
        return {}, f"run inline in the requests (embedded profile): {exc}"
    env = {"REDIS_URL": CHECKOUT_REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false"}
    return env, f"enqueued to Celery at {CHECKOUT_REDIS_URL}, no worker runs (webhooks, outbox, mail wait)"


def seed_products() -> list[str]:
    from orders.models import Product

    for sku, price in BENCH_PRODUCTS:
        Product.objects.update_or_create(
            sku=sku,
            defaults={
                "name": f"Benchmark item {sku[-2:]}",
                "name_ja": f"ベンチマーク商品 {sku[-2:]}",
                "price_amount": price,
                "currency": "JPY",
                "is_active": True,
                "stock_on_hand": BENCH_STOCK,
            },
        )
    return [sku for sku, _ in BENCH_PRODUCTS]


def checkout_body(i: int, *, run: str, skus: list[str]) -> bytes:
    return json.dumps(
        {
            "items": [{"sku": skus[i % len(skus)], "quantity": 1}],
            "email": f"bench-{run}-{i}@example.com",
            "payment_method": METHODS[i % len(METHODS)],
            "locale": "ja",
        }
    ).encode()


def ensure_simulator(server: h.Server) -> None:
    """The simulator is a separate piece of payops; without it no checkout can succeed."""
    status = h.http_status(f"{server.base_url}{SIMULATOR_PAYMENT_INTENTS}", method="POST", body=b"")
    if status == 404:
        raise h.HarnessError(
            f"the payment simulator is not there (POST {SIMULATOR_PAYMENT_INTENTS} answered 404): "
            "checkouts cannot create PaymentIntents"
        )


def order_statuses(run: str) -> Counter[str]:
    from orders.models import Order

    rows = Order.objects.filter(customer__email__startswith=f"bench-{run}-").values_list("status", flat=True)
    return Counter(rows)


def simulator_deliveries() -> str:
    """Delivered / created simulator events (whole database). The simulator sends its webhooks
    from one background thread per server process, so under load they trail the checkouts."""
    try:
        from payops.simulator.models import SimEvent

        return f"{SimEvent.objects.exclude(delivered_at=None).count()}/{SimEvent.objects.count()}"
    except Exception as exc:  # the simulator is another engineer's moving part: never fail the run on it
        return f"unknown ({type(exc).__name__})"


async def measure(server: h.Server, args: argparse.Namespace, *, run: str, skus: list[str]) -> list[h.LoadResult]:
    pool = h.ConnectionPool(server.base_url)
    json_headers = {"Content-Type": "application/json"}

    async def baseline_request(i: int) -> str | None:
        status, body = await pool.request("GET", args.baseline_path)
        return h.unexpected_status(status, body, 200)

    async def checkout(i: int) -> str | None:
        body = checkout_body(i, run=run, skus=skus)
        status, content = await pool.request("POST", "/api/v1/checkout/", body=body, headers=json_headers)
        return h.unexpected_status(status, content, 201)

    try:
        # Warm-up, not measured: imports, first connections, the simulator's first intents.
        warmup = await h.closed_loop("warm-up", checkout, total=WARMUP_CHECKOUTS, concurrency=4, time_limit=60)
        if not warmup.ok:
            raise h.HarnessError(f"no warm-up checkout succeeded: {warmup.errors.most_common(3)}")
        await h.closed_loop("warm-up", baseline_request, total=100, concurrency=args.concurrency, time_limit=30)

        baseline = await h.closed_loop(
            f"GET {args.baseline_path}",
            baseline_request,
            total=args.baseline_requests,
            concurrency=args.concurrency,
            time_limit=args.time_limit,
        )
        # Checkout indices start after the warm-up's so every shopper email stays unique.
        result = await h.closed_loop(
            "POST /api/v1/checkout/",
            lambda i: checkout(i + 1000),
            total=args.checkouts,
            concurrency=args.concurrency,
            time_limit=args.time_limit,
        )
    finally:
        await pool.close()
    return [baseline, result]


def report(results: list[h.LoadResult], *, run: str, args: argparse.Namespace, processes: h.Processes) -> None:
    baseline, checkouts = results
    print("## Results")
    h.print_table(h.LOAD_HEADER, [h.load_row(r) for r in results])
    print()
    statuses = order_statuses(run)
    rows = [
        ["orders/s", f"{checkouts.per_second:.1f}", f"{checkouts.ok} checkouts answered 201"],
        [
            f"checkout / {args.baseline_path} throughput",
            h.ratio(checkouts.per_second, baseline.per_second),
            f"{baseline.per_second:.1f} requests/s to {args.baseline_path}",
        ],
        *(
            [
                f"checkout / {args.baseline_path} p{p} latency",
                h.ratio(checkouts.percentile(p), baseline.percentile(p)),
                f"{h.ms(checkouts.percentile(p))} ms vs {h.ms(baseline.percentile(p))} ms",
            ]
            for p in (50, 95, 99)
        ),
        [
            f"orders stored by this run (incl. {WARMUP_CHECKOUTS} warm-up)",
            str(sum(statuses.values())),
            str(dict(statuses)),
        ],
        [
            "simulator webhooks delivered / created",
            simulator_deliveries(),
            "sent in the background while the run went on; the rest were pending at the end",
        ],
    ]
    h.print_table(["figure", "value", "note"], rows)
    print()
    for result in results:
        h.print_errors(result)
    h.print_log_exceptions(processes, "uvicorn")
    h.print_cpu(results)
    h.dump_json(
        args.json,
        {
            "command": h.command_line(),
            "baseline": {"path": args.baseline_path, **h.summary(baseline)},
            "checkout": h.summary(checkouts),
            "throughput_ratio": checkouts.per_second / baseline.per_second if baseline.per_second else None,
            "order_statuses": dict(statuses),
            "simulator_webhooks_delivered": simulator_deliveries(),
        },
    )


def main() -> int:
    args = parse_args()
    db = h.prepare_database()
    port = h.free_port()
    broker, side_effects = broker_env()
    env = h.server_env(
        db,
        PAYOPS_BASE_URL=f"http://127.0.0.1:{port}",
        # Every simulated shopper comes from 127.0.0.1, which the per-address limit would stop
        # after 30 checkouts a minute. Raised, not removed: the throttle's own cost is measured.
        PAYOPS_API_THROTTLE_CHECKOUT=CHECKOUT_THROTTLE,
        **broker,
    )
    h.print_header(
        "Checkout benchmark",
        db,
        {
            "server": f"uvicorn payops.asgi:application, {args.workers} worker process(es), port {port}",
            "gateway": "stripe library over HTTP to payops's own payment simulator",
            "throttle": f"PAYOPS_API_THROTTLE_CHECKOUT={CHECKOUT_THROTTLE} (all shoppers share one address)",
            "tasks": side_effects,
            "load": f"{args.checkouts} checkouts (methods alternating {'/'.join(METHODS)}) and "
            f"{args.baseline_requests} GET {args.baseline_path}, {args.concurrency} concurrent clients",
        },
    )
    h.migrate(env)
    h.setup_django(env)
    run = h.run_id()
    skus = seed_products()
    with h.Processes("checkout-bench") as processes:
        server = h.start_server(processes, env, port=port, workers=args.workers)
        ensure_simulator(server)
        results = asyncio.run(measure(server, args, run=run, skus=skus))
        print(f"(server logs: {processes.log_dir})\n")
    report(results, run=run, args=args, processes=processes)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except h.HarnessError as exc:
        print(f"\nHARNESS FAILURE: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("\ninterrupted; every process this benchmark started has been stopped", file=sys.stderr)
        sys.exit(130)
