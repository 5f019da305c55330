"""How fast a change reaches open pages: webhook POST -> worker -> channel layer -> WebSocket.

    .venv/bin/python bench/live_latency.py            # full run
    .venv/bin/python bench/live_latency.py --quick    # a short smoke run

Phases, all against real processes (uvicorn with the Redis channel layer, a Celery worker):
1. live path  — K shoppers on one order's page and M staff on the merchant socket; signed
   Stripe events are posted to /webhooks/stripe/ one after another; each is stored, processed
   by the worker, and broadcast after commit. Latency = POST sent -> message received.
2. baseline   — the same clients; the bench itself does a channel-layer ``group_send`` to the
   same groups. Latency = send -> receive: the floor of the socket path.
3. fan-out    — C connections on one server process, one broadcast: time until all received.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SECRET = "whsec_bench_live"
REDIS_URL = "redis://127.0.0.1:6379/9"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=20, help="clients on the order's socket (K)")
    parser.add_argument("--staff", type=int, default=5, help="clients on the merchant socket (M)")
    parser.add_argument("--events", type=int, default=60, help="webhooks posted in the live phase")
    parser.add_argument("--gap", type=float, default=0.15, help="seconds between two webhooks")
    parser.add_argument("--fanout", type=int, default=1000, help="connections for the fan-out phase (C)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.shoppers, args.staff, args.events, args.fanout = 5, 2, 10, 100
    return args


# --- seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    token: str
    intent_id: str
    order_id: int
    session_cookie: str


def seed(run: str) -> Seed:
    """One paid order to watch, and a staff login for the merchant socket (ORM, in this process)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from orders.models import Customer, Order, OrderLine, Payment, Product

    product = Product.objects.create(sku=f"LIVE-{run}", name="Live bench", price_amount=1500, stock_on_hand=10)
    customer = Customer.objects.create(email=f"live-{run}@bench.example")
    order = Order.objects.create(customer=customer, status="paid", currency="JPY", total_amount=1500)
    OrderLine.objects.create(
        order=order, product=product, sku=product.sku, name=product.name, unit_price_amount=1500, quantity=1
    )
    intent_id = f"pi_live_{run}"
    Payment.objects.create(
        order=order, intent_id=intent_id, method="card", amount=1500, currency="JPY", status="succeeded"
    )

    # The merchant socket needs the "view" staff level; a superuser has every level.
    user = get_user_model().objects.create_user(f"bench-staff-{run}", is_staff=True, is_superuser=True)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return Seed(order.token, intent_id, order.pk, f"sessionid={session.session_key}")


def signed_review_event(seed: Seed, n: int, run: str) -> tuple[bytes, str]:
    """A Radar review event: each one is a new fact on the order, so each one is broadcast."""
    event = {
        "id": f"evt_live_{run}_{n}",
        "object": "event",
        "type": "review.opened" if n % 2 == 0 else "review.closed",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {"id": f"prv_{run}", "object": "review", "payment_intent": seed.intent_id, "open": n % 2 == 0}
        },
    }
    body = json.dumps(event).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


# --- WebSocket clients ------------------------------------------------------------------------


@dataclass
class Client:
    """A socket that records when each message arrived, keyed by what the message carries."""

    arrivals: dict[Any, float] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


async def run_client(url: str, headers: dict[str, str], client: Client, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, additional_headers=headers, max_size=2**22, open_timeout=60) as socket:
        receiver = asyncio.create_task(_receive(socket, client))
        await stop.wait()
        receiver.cancel()


async def _receive(socket: Any, client: Client) -> None:
    async for raw in socket:
        now = time.perf_counter()
        message = json.loads(raw)
        client.ready.set()  # the snapshot / hello: subscribed
        key = message.get("bench") or (message.get("event") or {}).get("sequence")
        if key is not None:
            client.arrivals.setdefault(key, now)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --- phases -----------------------------------------------------------------------------------


async def live_phase(server: h.Server, seed: Seed, args: argparse.Namespace, run: str) -> dict[str, list[float]]:
    from asgiref.sync import sync_to_async

    from orders.models import Order

    origin = {"Origin": server.base_url}
    order_url = f"ws://127.0.0.1:{server.port}/ws/orders/{seed.token}/"
    merchant_url = f"ws://127.0.0.1:{server.port}/ws/merchant/"
    shoppers = [Client() for _ in range(args.shoppers)]
    staff = [Client() for _ in range(args.staff)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_client(order_url, origin, c, stop)) for c in shoppers]
    tasks += [
        asyncio.create_task(run_client(merchant_url, {**origin, "Cookie": seed.session_cookie}, c, stop)) for c in staff
    ]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in shoppers + staff)), timeout=60)

    # Phase 1: webhooks through the worker.
    connection = h.HttpConnection("127.0.0.1", server.port)
    sent: dict[int, float] = {}
    first_sequence = await sync_to_async(lambda: Order.objects.get(pk=seed.order_id).last_event_sequence)() + 1
    for n in range(args.events):
        body, signature = signed_review_event(seed, n, run)
        sent[first_sequence + n] = time.perf_counter()
        status, answer = await connection.request(
            "POST",
            "/webhooks/stripe/",
            body=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        if status != 200:
            raise h.HarnessError(f"webhook refused: {status} {answer[:200]!r}")
        await asyncio.sleep(args.gap)
    await _wait_for(shoppers + staff, list(sent), timeout=60)
    live = {
        "shoppers": _latencies(shoppers, sent),
        "staff": _latencies(staff, sent),
    }

    # Phase 2: the same clients, a direct group_send from here: the socket path alone.
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    direct: dict[str, float] = {}
    for n in range(args.events):
        key = f"direct-{n}"
        message = {"type": "order.update", "message": {"type": "bench", "bench": key}}
        direct[key] = time.perf_counter()
        await layer.group_send(f"order.{seed.token}", message)
        await layer.group_send("merchant", message)
        await asyncio.sleep(args.gap)
    await _wait_for(shoppers + staff, list(direct), timeout=60)
    baseline = {"shoppers": _latencies(shoppers, direct), "staff": _latencies(staff, direct)}

    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await connection.close()
    return {
        "live": live["shoppers"] + live["staff"],
        "baseline": baseline["shoppers"] + baseline["staff"],
        **{f"live_{k}": v for k, v in live.items()},
    }


async def _wait_for(clients: list[Client], keys: list[Any], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(key in c.arrivals for c in clients for key in keys):
            return
        await asyncio.sleep(0.05)
    missing = sum(1 for c in clients for key in keys if key not in c.arrivals)
    raise h.HarnessError(f"{missing} messages never arrived within {timeout:.0f} s")


def _latencies(clients: list[Client], sent: dict[Any, float]) -> list[float]:
    return [c.arrivals[key] - at for c in clients for key, at in sent.items() if key in c.arrivals]


async def fanout_phase(server: h.Server, seed: Seed, connections: int) -> tuple[float, float]:
    """C sockets on one order; one broadcast. Returns (seconds to connect all, seconds until all received)."""
    from channels.layers import get_channel_layer

    url = f"ws://127.0.0.1:{server.port}/ws/orders/{seed.token}/"
    clients = [Client() for _ in range(connections)]
    stop = asyncio.Event()
    started = time.perf_counter()
    tasks = []
    for batch in range(0, connections, 50):  # a burst of 1000 handshakes at once only measures the backlog
        tasks += [
            asyncio.create_task(run_client(url, {"Origin": server.base_url}, c, stop))
            for c in clients[batch : batch + 50]
        ]
        await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients[batch : batch + 50])), timeout=120)
    connected = time.perf_counter() - started
    sent = time.perf_counter()
    await get_channel_layer().group_send(
        f"order.{seed.token}", {"type": "order.update", "message": {"type": "bench", "bench": "fanout"}}
    )
    await _wait_for(clients, ["fanout"], timeout=120)
    all_received = max(c.arrivals["fanout"] for c in clients) - sent
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return connected, all_received


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


def main() -> None:
    args = parse_args()
    raise_file_limit(args.fanout * 2 + 256)  # clients here, and the server inherits the limit
    db = h.prepare_database("payops_bench_live")
    env = h.server_env(
        db,
        REDIS_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        STRIPE_WEBHOOK_SECRETS=SECRET,
        PAYOPS_WS_CONNECTS_PER_MINUTE="1000000",
        PAYOPS_AWS="off",
    )
    h.print_header(
        "Live updates: webhook -> worker -> WebSocket",
        db,
        {"clients": f"{args.shoppers} shoppers + {args.staff} staff", "events": args.events, "fan-out": args.fanout},
    )
    h.migrate(env)
    h.setup_django(env)
    run = h.run_id()
    seeded = seed(run)

    with h.Processes("live") as processes:
        server = h.start_server(processes, env, port=h.free_port(), workers=1)
        worker = processes.start(
            "celery",
            [
                h.which("celery"),
                "-A",
                "payops",
                "worker",
                "-Q",
                "webhooks,default,payments",
                "-P",
                "solo",
                "--concurrency",
                "1",
                "-l",
                "WARNING",
            ],
            env,
        )
        time.sleep(3)  # let the worker connect before the first webhook
        if worker.poll() is not None:
            raise h.HarnessError(f"celery worker exited:\n{processes.log_tail('celery')}")
        latencies = asyncio.run(live_phase(server, seeded, args, run))
        connect_s, fanout_s = asyncio.run(fanout_phase(server, seeded, args.fanout))

    live, base = latencies["live"], latencies["baseline"]
    rows = [
        [
            "webhook -> worker -> socket",
            str(len(live)),
            h.ms(percentile(live, 50)),
            h.ms(percentile(live, 95)),
            h.ms(max(live)),
        ],
        [
            "  of which shoppers",
            str(len(latencies["live_shoppers"])),
            h.ms(percentile(latencies["live_shoppers"], 50)),
            h.ms(percentile(latencies["live_shoppers"], 95)),
            "",
        ],
        [
            "  of which staff",
            str(len(latencies["live_staff"])),
            h.ms(percentile(latencies["live_staff"], 50)),
            h.ms(percentile(latencies["live_staff"], 95)),
            "",
        ],
        [
            "baseline: group_send -> socket",
            str(len(base)),
            h.ms(percentile(base, 50)),
            h.ms(percentile(base, 95)),
            h.ms(max(base)),
        ],
    ]
    h.print_table(["path", "messages", "p50 ms", "p95 ms", "max ms"], rows)
    print()
    p50_ratio = h.ratio(percentile(live, 50), percentile(base, 50))
    p95_ratio = h.ratio(percentile(live, 95), percentile(base, 95))
    print(f"ratio live/baseline p50: {p50_ratio}   p95: {p95_ratio}")
    print(
        f"fan-out: {args.fanout} sockets on one server process connected in {connect_s:.1f} s; "
        f"one broadcast reached all in {fanout_s * 1000:.0f} ms"
    )
    print(f"mean live latency {statistics.mean(live) * 1000:.1f} ms over {args.events} webhooks")
    h.dump_json(
        args.json,
        {
            "live_p50_ms": percentile(live, 50) * 1000,
            "live_p95_ms": percentile(live, 95) * 1000,
            "baseline_p50_ms": percentile(base, 50) * 1000,
            "baseline_p95_ms": percentile(base, 95) * 1000,
            "fanout_connections": args.fanout,
            "fanout_all_received_ms": fanout_s * 1000,
        },
    )


if __name__ == "__main__":
    try:
        main()
    except h.HarnessError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
