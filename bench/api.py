"""The public API's read endpoints under load → requests/s and latency percentiles.

Product list and order-by-token, served as production serves them (uvicorn, several processes,
PostgreSQL when available, the cache in Redis when it answers), against two baselines measured
in the same run: a bare DRF view that returns a constant (what DRF costs here), and the same
constant through payops's public API base class (authentication, per-address throttle, problem
handling: what the plumbing adds). The ratios to the bare DRF baseline are the figures to compare.

Clients come from many addresses (X-Forwarded-For behind one trusted proxy), so the production
rate limits apply per address and are exercised without stopping the run.

    .venv/bin/python bench/api.py            # 3000 requests per phase, 16 concurrent
    .venv/bin/python bench/api.py --quick    # a smoke run of a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

API_REDIS_URL = "redis://127.0.0.1:6379/12"
CLIENT_ADDRESSES = 20_000  # distinct shoppers; each sends a handful of requests at most
ORDERS = 500
PRODUCTS = [(f"BENCH-API-{n:02d}", 500 + 250 * n) for n in range(1, 13)]  # a catalogue page of 12

PHASES = [
    ("drf constant (baseline)", "/bench/drf-constant/"),
    ("api constant (plumbing)", "/bench/api-constant/"),
    ("GET /api/v1/products/", "/api/v1/products/"),
    ("GET /api/v1/orders/{token}/", None),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2, one per core)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of all phases, interleaved (default 2)")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per phase and round at most")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 requests per phase, one round")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds = min(args.requests, 300), 1
    return args


def cache_env() -> tuple[dict[str, str], str]:
    try:
        h.reset_redis_database(API_REDIS_URL)
    except h.HarnessError as exc:
        return {"REDIS_URL": ""}, f"per process (local memory): {exc}"
    return {"REDIS_URL": API_REDIS_URL}, f"Redis at {API_REDIS_URL}, shared by the server processes"


def seed(run: str) -> list[str]:
    """The catalogue page and orders as checkout leaves them: lines, a konbini payment, events."""
    from orders.models import Customer, Order, OrderLine, Payment, Product
    from orders.services.order_events import Cause, record_order_event
    from tests.fakes.stripe_api import konbini_next_action

    Product.objects.filter(sku__startswith="BENCH-API-").update(is_active=True)
    products = []
    for sku, price in PRODUCTS:
        product, _ = Product.objects.update_or_create(
            sku=sku,
            defaults={
                "name": f"Bench item {sku[-2:]}",
                "name_ja": f"商品 {sku[-2:]}",
                "price_amount": price,
                "currency": "JPY",
                "stock_on_hand": 1_000_000,
                "is_active": True,
            },
        )
        products.append(product)
    tokens = []
    for i in range(ORDERS):
        customer, _ = Customer.objects.get_or_create(email=f"bench-api-{run}-{i}@example.com")
        chosen = random.sample(products, 3)
        order = Order.objects.create(
            customer=customer,
            status="awaiting_payment",
            currency="JPY",
            total_amount=sum(p.price_amount for p in chosen),
            locale="ja" if i % 2 else "en",
        )
        for product in chosen:
            OrderLine.objects.create(
                order=order,
                product=product,
                sku=product.sku,
                name=product.name,
                unit_price_amount=product.price_amount,
                quantity=1,
            )
        Payment.objects.create(
            order=order,
            intent_id=f"pi_bench_api_{run}_{i}",
            method="konbini",
            amount=order.total_amount,
            currency="JPY",
            status="requires_action",
            next_action=konbini_next_action(2_000_000_000),
        )
        for event in ("order.created", "order.awaiting_payment"):
            record_order_event(order=order, type=event, cause=Cause.customer("bench"))
        tokens.append(order.token)
    return tokens


async def measure(server: h.Server, args: argparse.Namespace, tokens: list[str]) -> list[h.LoadResult]:
    pool = h.ConnectionPool(server.base_url)
    rng = random.Random(7)

    def operation(path: str | None) -> h.Operation:
        async def request(i: int) -> str | None:
            target = path or f"/api/v1/orders/{rng.choice(tokens)}/"
            n = rng.randrange(CLIENT_ADDRESSES)
            headers = {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
            status, body = await pool.request("GET", target, headers=headers)
            return h.unexpected_status(status, body, 200)

        return request

    rounds: dict[str, list[h.LoadResult]] = {label: [] for label, _ in PHASES}
    try:
        for _, path in PHASES:  # warm-up: imports, connections, first queries
            await h.closed_loop("warm-up", operation(path), total=200, concurrency=args.concurrency, time_limit=30)
        # Rounds interleave the phases, so a busy neighbour on the shared machine hits them alike.
        for _ in range(args.rounds):
            for label, path in PHASES:
                rounds[label].append(
                    await h.closed_loop(
                        label,
                        operation(path),
                        total=args.requests,
                        concurrency=args.concurrency,
                        time_limit=args.time_limit,
                    )
                )
    finally:
        await pool.close()
    return [h.merge_results(label, results) for label, results in rounds.items()]


def report(results: list[h.LoadResult], args: argparse.Namespace, processes: h.Processes) -> None:
    drf, plumbing, products, order = results
    print("## Results")
    h.print_table(h.LOAD_HEADER, [h.load_row(r) for r in results])
    print()
    rows = []
    for result in (plumbing, products, order):
        rows.append([f"{result.label} / drf constant, requests/s", h.ratio(result.per_second, drf.per_second)])
        rows.append([f"{result.label} / drf constant, p95", h.ratio(result.percentile(95), drf.percentile(95))])
    for result in (products, order):
        rows.append([f"{result.label} / api constant, requests/s", h.ratio(result.per_second, plumbing.per_second)])
    h.print_table(["ratio", "value"], rows)
    print()
    for result in results:
        h.print_errors(result)
    h.print_log_exceptions(processes, "uvicorn")
    h.print_cpu(results)
    h.dump_json(
        args.json,
        {
            "command": h.command_line(),
            **{result.label: h.summary(result) for result in results},
            "ratios_to_drf_constant": {
                result.label: {
                    "per_second": result.per_second / drf.per_second if drf.per_second else None,
                    "p95": result.percentile(95) / drf.percentile(95) if drf.ok and result.ok else None,
                }
                for result in (plumbing, products, order)
            },
        },
    )


def main() -> int:
    args = parse_args()
    db = h.prepare_database("payops_bench_api")
    port = h.free_port()
    cache, cache_note = cache_env()
    env = h.server_env(
        db,
        DJANGO_SETTINGS_MODULE="bench.api_settings",
        PAYOPS_BASE_URL=f"http://127.0.0.1:{port}",
        # The load generator stands for many shoppers behind one proxy: the limits apply per address.
        PAYOPS_API_NUM_PROXIES="1",
        **cache,
    )
    h.print_header(
        "API benchmark",
        db,
        {
            "server": f"uvicorn payops.asgi:application, {args.workers} worker process(es), port {port}",
            "cache": f"{cache_note} (rate-limit counters)",
            "data": f"{len(PRODUCTS)} products on the list; {ORDERS} konbini orders, 3 lines and 2 events each",
            "load": f"{args.requests} requests per phase x {args.rounds} round(s), {args.concurrency} concurrent "
            f"clients from {CLIENT_ADDRESSES:,} addresses",
        },
    )
    h.migrate(env)
    h.setup_django(env)
    tokens = seed(h.run_id())
    with h.Processes("api-bench") as processes:
        server = h.start_server(processes, env, port=port, workers=args.workers)
        results = asyncio.run(measure(server, args, tokens))
        print(f"(server logs: {processes.log_dir})\n")
    report(results, args, processes)
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
