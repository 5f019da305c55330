"""The merchant dashboard at a million orders: list pages, counts, the order page, against a
primary-key fetch of one order measured in the same run.

Seeds PostgreSQL with COPY (orders, customers, lines, payments, order events, webhook inbox
rows, outbox rows and mails, with a realistic spread of statuses, methods and dates), showing
progress, then times each page through Django's test client in this process (no network, so
the figures are the page's own cost: queries, rendering) and counts the queries of each.

    .venv/bin/python bench/dashboard.py                  # 1,000,000 orders (several minutes to seed)
    .venv/bin/python bench/dashboard.py --orders 100000  # a quicker run
    .venv/bin/python bench/dashboard.py --reuse          # measure again without seeding
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

DATABASE = "payops_bench_dashboard"
CUSTOMERS_PER_ORDER = 10  # one customer per ten orders: repeat buyers
STATUSES = [  # (status, share) of the seeded orders
    ("completed", 0.45),
    ("shipped", 0.10),
    ("paid", 0.04),
    ("fulfilling", 0.03),
    ("awaiting_approval", 0.01),
    ("awaiting_payment", 0.08),
    ("pending_payment", 0.02),
    ("expired", 0.10),
    ("payment_failed", 0.05),
    ("cancelled", 0.06),
    ("refunded", 0.03),
    ("partially_refunded", 0.02),
    ("disputed", 0.005),
    ("needs_attention", 0.005),
]
METHODS = [("card", 0.55), ("konbini", 0.30), ("bank_transfer", 0.15)]
PAID = {"completed", "shipped", "paid", "fulfilling", "awaiting_approval", "refunded", "partially_refunded", "disputed"}
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to seed (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (default 60)")
    parser.add_argument("--reuse", action="store_true", help=f"keep the seeded {DATABASE!r} database")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    return parser.parse_args()


def order_number(i: int) -> str:
    # A bijection of i onto 8 characters (31^8 > 8e11): unique numbers without a lookup.
    n = (i * 2_654_435_761) % (31**8)
    body = ""
    for _ in range(8):
        n, r = divmod(n, 31)
        body += ALPHABET[r]
    return f"PO-{body[:4]}-{body[4:]}"


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


class Progress:
    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.started, self.next = label, total, time.perf_counter(), 0

    def __call__(self, done: int) -> None:
        if done >= self.next or done == self.total:
            rate = done / max(time.perf_counter() - self.started, 1e-9)
            print(f"\r  {self.label:<14} {done:>10,}/{self.total:,}  {rate:>9,.0f} rows/s", end="", flush=True)
            self.next = done + max(self.total // 50, 1)
        if done == self.total:
            print(flush=True)


def copy_rows(conn: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]], total: int) -> None:
    progress = Progress(table.removeprefix("orders_").removeprefix("webhooks_"), total)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for done, row in enumerate(rows, start=1):
            copy.write_row(row)
            if done % 10_000 == 0 or done == total:
                progress(done)


def seed(db: h.Database, total: int) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    span = dt.timedelta(days=730).total_seconds()
    customers = max(total // CUSTOMERS_PER_ORDER, 1)
    print(f"seeding {total:,} orders, {customers:,} customers (COPY)")
    started = time.perf_counter()
    plan = []  # per order: (created, status, method, quantity, customer)
    for i in range(total):
        created = now - dt.timedelta(seconds=span * (1 - i / total) ** 1.5 + rng.random() * 60)
        plan.append((created, pick(rng, STATUSES), pick(rng, METHODS), rng.randint(1, 4), rng.randrange(customers)))
    with psycopg.connect(h.libpq_url(db.url), autocommit=False) as conn:
        copy_rows(
            conn,
            "orders_product",
            [
                "id",
                "sku",
                "name",
                "name_ja",
                "description",
                "price_amount",
                "currency",
                "stock_on_hand",
                "stock_reserved",
                "is_digital",
                "is_active",
                "created_at",
                "updated_at",
            ],
            (
                (p, f"BENCH-{p:03d}", f"Item {p}", "", "", 500 * p, "JPY", 10**6, 0, False, True, now, now)
                for p in range(1, 51)
            ),
            50,
        )
        copy_rows(
            conn,
            "orders_customer",
            ["id", "email", "preferred_language", "stripe_customer_id", "created_at"],
            ((c + 1, f"c{c}@bench.example", "ja", "", now) for c in range(customers)),
            customers,
        )

        def orders() -> Iterator[tuple[Any, ...]]:
            for i, (created, status, _method, qty, customer) in enumerate(plan, start=1):
                unpaid = status in ("awaiting_payment", "pending_payment")
                yield (
                    i,
                    order_number(i),
                    secrets.token_urlsafe(24),
                    customer + 1,
                    status,
                    "JPY",
                    500 * (i % 50 + 1) * qty,
                    "ja",
                    "committed" if status in PAID else "released",
                    2,
                    created + dt.timedelta(days=3) if unpaid else None,
                    created + dt.timedelta(minutes=5) if status in PAID else None,
                    created,
                    created,
                )

        copy_rows(
            conn,
            "orders_order",
            [
                "id",
                "number",
                "token",
                "customer_id",
                "status",
                "currency",
                "total_amount",
                "locale",
                "stock_state",
                "last_event_sequence",
                "payment_expires_at",
                "paid_at",
                "created_at",
                "updated_at",
            ],
            orders(),
            total,
        )
        copy_rows(
            conn,
            "orders_orderline",
            ["id", "order_id", "product_id", "sku", "name", "unit_price_amount", "quantity"],
            (
                (i, i, i % 50 + 1, f"BENCH-{i % 50 + 1:03d}", f"Item {i % 50 + 1}", 500 * (i % 50 + 1), q)
                for i, (_, _, _, q, _) in enumerate(plan, start=1)
            ),
            total,
        )

        def payments() -> Iterator[tuple[Any, ...]]:
            for i, (created, status, method, qty, _) in enumerate(plan, start=1):
                amount = 500 * (i % 50 + 1) * qty
                paid = status in PAID
                intent_status = (
                    "succeeded"
                    if paid
                    else {
                        "payment_failed": "requires_payment_method",
                        "cancelled": "canceled",
                        "expired": "canceled",
                    }.get(status, "requires_action")
                )
                yield (
                    i,
                    i,
                    f"pi_bench_{i}",
                    method,
                    amount,
                    amount if paid else 0,
                    None,
                    "JPY",
                    intent_status,
                    "",
                    None,
                    "card_declined" if status == "payment_failed" else "",
                    "",
                    0,
                    False,
                    "",
                    "",
                    None,
                    None,
                    None,
                    created,
                    created,
                )

        copy_rows(
            conn,
            "orders_payment",
            [
                "id",
                "order_id",
                "intent_id",
                "method",
                "amount",
                "amount_received",
                "amount_remaining",
                "currency",
                "status",
                "client_secret",
                "next_action",
                "failure_code",
                "failure_message",
                "amount_refunded",
                "review_open",
                "outside_source",
                "outside_reference",
                "last_event_created",
                "last_charge_event_created",
                "last_review_event_created",
                "created_at",
                "updated_at",
            ],
            payments(),
            total,
        )

        def events() -> Iterator[tuple[Any, ...]]:
            for i, (created, status, _, _, _) in enumerate(plan, start=1):
                yield (
                    2 * i - 1,
                    i,
                    1,
                    "order.created",
                    "",
                    "pending_payment",
                    Jsonb({}),
                    "customer",
                    "",
                    None,
                    created,
                )
                yield (
                    2 * i,
                    i,
                    2,
                    f"order.{status}",
                    "pending_payment",
                    status,
                    Jsonb({}),
                    "webhook",
                    f"evt_bench_{i}",
                    None,
                    created + dt.timedelta(minutes=5),
                )

        copy_rows(
            conn,
            "orders_orderevent",
            [
                "id",
                "order_id",
                "sequence",
                "type",
                "from_status",
                "to_status",
                "data",
                "cause",
                "cause_reference",
                "staff_user_id",
                "created_at",
            ],
            events(),
            2 * total,
        )

        def inbox() -> Iterator[tuple[Any, ...]]:
            for i, (created, status, _, _, _) in enumerate(plan, start=1):
                at = created + dt.timedelta(minutes=5)
                payload = {
                    "id": f"evt_bench_{i}",
                    "type": "payment_intent.succeeded",
                    "created": int(at.timestamp()),
                    "data": {"object": {"object": "payment_intent", "id": f"pi_bench_{i}"}},
                }
                failed = i % 500 == 0
                yield (
                    i,
                    "stripe",
                    f"evt_bench_{i}",
                    "payment_intent.succeeded",
                    "2026-10-28",
                    False,
                    int(at.timestamp()),
                    Jsonb(payload),
                    at,
                    "failed" if failed else "processed",
                    1,
                    None,
                    None,
                    "" if failed else f"order is {status}",
                    "RuntimeError: bench" if failed else "",
                    "",
                    None if failed else at,
                )

        copy_rows(
            conn,
            "webhooks_inboxevent",
            [
                "id",
                "provider",
                "event_id",
                "type",
                "api_version",
                "livemode",
                "event_created",
                "payload",
                "received_at",
                "status",
                "attempts",
                "lease_expires_at",
                "next_attempt_at",
                "outcome",
                "last_error",
                "last_traceback",
                "processed_at",
            ],
            inbox(),
            total,
        )
        copy_rows(
            conn,
            "mail_mail",
            [
                "id",
                "idempotency_key",
                "template",
                "recipient",
                "language",
                "context",
                "reference",
                "status",
                "attempts",
                "next_attempt_at",
                "claimed_at",
                "last_error",
                "ses_message_id",
                "sent_at",
                "created_at",
            ],
            (
                (
                    i,
                    f"order_received:{i}",
                    "order_received",
                    f"c{plan[i - 1][4]}@bench.example",
                    "ja",
                    Jsonb({}),
                    order_number(i),
                    "sent",
                    1,
                    plan[i - 1][0],
                    None,
                    "",
                    f"ses-{i}",
                    plan[i - 1][0],
                    plan[i - 1][0],
                )
                for i in range(1, total + 1)
            ),
            total,
        )
        recent = max(total - 100_000, 0)
        copy_rows(
            conn,
            "outbox_outboxevent",
            [
                "id",
                "event_id",
                "source",
                "detail_type",
                "detail",
                "aggregate",
                "sequence",
                "occurred_at",
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "eventbridge_event_id",
                "published_at",
                "created_at",
            ],
            (
                (
                    n,
                    f"00000000-0000-4000-8000-{i:012d}",
                    "payops.orders",
                    f"order.{plan[i - 1][1]}",
                    Jsonb({}),
                    order_number(i),
                    2,
                    plan[i - 1][0],
                    "published",
                    1,
                    plan[i - 1][0],
                    "",
                    "",
                    plan[i - 1][0],
                    plan[i - 1][0],
                )
                for n, i in enumerate(range(recent + 1, total + 1), start=1)
            ),
            total - recent,
        )
        with conn.cursor() as cur:
            for table in (
                "orders_product",
                "orders_customer",
                "orders_order",
                "orders_orderline",
                "orders_payment",
                "orders_orderevent",
                "webhooks_inboxevent",
                "mail_mail",
                "outbox_outboxevent",
            ):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    print("  VACUUM ANALYZE ...", flush=True)
    with psycopg.connect(h.libpq_url(db.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.0f} s\n", flush=True)


# --- measuring -----------------------------------------------------------------------------------


def timed(fn: Callable[[int], Any], n: int) -> tuple[list[float], int]:
    from django.db import connection, reset_queries

    fn(0)  # warm: templates compiled, plans cached
    samples, queries = [], 0
    connection.force_debug_cursor = True
    try:
        for i in range(n):
            reset_queries()
            started = time.perf_counter()
            fn(i + 1)
            samples.append(time.perf_counter() - started)
            queries = len(connection.queries)
    finally:
        connection.force_debug_cursor = False
    return samples, queries


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    args = parse_args()
    if args.reuse:
        db = h.Database(f"{h.LOCAL_POSTGRES}/{DATABASE}", "postgresql", f"database {DATABASE!r} reused")
    else:
        db = h.prepare_database(DATABASE)
    if not db.is_postgres:
        print(f"needs PostgreSQL: {db.note}")
        return 2
    env = h.server_env(db, DJANGO_ALLOWED_HOSTS="testserver")
    h.print_header("Dashboard at scale", db, {"orders": f"{args.orders:,}", "requests": args.requests})
    if not args.reuse:
        h.migrate(env)
    h.setup_django(env)
    if not args.reuse:
        seed(db, args.orders)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from orders.models import Order
    from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel, ensure_staff_groups

    ensure_staff_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-clerk", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel.REFUND]))
    client = Client()
    client.force_login(user)
    total = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(11)
    ids = [rng.randint(1, total) for _ in range(args.requests + 1)]
    numbers = dict(Order.objects.filter(pk__in=ids).values_list("pk", "number"))
    emails = [f"c{rng.randrange(max(total // CUSTOMERS_PER_ORDER, 1))}@bench.example" for _ in ids]
    today = timezone.localdate()  # the dashboard reads its date filters in TIME_ZONE

    def get(url: str) -> Callable[[int], Any]:
        def fetch(i: int) -> Any:
            response = client.get(url(i) if callable(url) else url)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            if response.streaming:
                return b"".join(response.streaming_content)
            return response

        return fetch

    deep_cursor = _cursor_after(client, pages=20)

    def counts_cold(i: int) -> Any:
        cache.clear()
        return get("/dashboard/orders/counts/")(i)

    cases: list[tuple[str, Callable[[int], Any]]] = [
        ("baseline: Order by pk (ORM)", lambda i: Order.objects.get(pk=ids[i])),
        ("baseline: /healthz", get("/healthz")),
        ("list, newest first", get("/dashboard/orders/")),
        ("list, 21st page (cursor)", get(f"/dashboard/orders/?cursor={deep_cursor}")),
        ("list, status=awaiting_payment", get("/dashboard/orders/?status=awaiting_payment")),
        ("list, method=konbini", get("/dashboard/orders/?method=konbini")),
        ("list, status=paid + method=card", get("/dashboard/orders/?status=paid&method=card")),
        ("list, last 7 days", get(f"/dashboard/orders/?created_from={today - dt.timedelta(days=7)}")),
        ("list, amount 10000-12000", get("/dashboard/orders/?amount_min=10000&amount_max=12000")),
        ("list, largest amount first", get("/dashboard/orders/?sort=amount_desc")),
        ("search: email", get(lambda i: f"/dashboard/orders/?q={emails[i]}")),
        ("search: number prefix", get(lambda i: f"/dashboard/orders/?q={numbers.get(ids[i], 'PO-2222')[:6]}")),
        ("search: PaymentIntent id", get(lambda i: f"/dashboard/orders/?q=pi_bench_{ids[i]}")),
        ("counts per status (cached)", get("/dashboard/orders/counts/")),
        ("counts per status (cold)", counts_cold),
        ("order page", get(lambda i: f"/dashboard/orders/{numbers.get(ids[i], '')}/")),
        ("overview (cached)", get("/dashboard/")),
        ("overview (cold)", lambda i: (cache.clear(), get("/dashboard/")(i))),
        ("webhook inbox, failed", get("/dashboard/operations/webhooks/?status=failed")),
        ("CSV export, last 7 days", get(f"/dashboard/orders/export.csv?created_from={today - dt.timedelta(days=7)}")),
    ]
    results = []
    for label, fn in cases:
        n = (
            max(args.requests // 6, 5)
            if label.startswith(("counts per status (cold)", "CSV", "overview (cold)"))
            else args.requests
        )
        samples, queries = timed(fn, n)
        results.append((label, samples, queries))
        print(f"  measured {label} ({n} requests)", flush=True)
    base = statistics.median(results[0][1])
    print()
    h.print_table(
        ["page", "queries", "n", "p50 ms", "p95 ms", "p50 / pk fetch"],
        [
            [
                label,
                str(q),
                str(len(s)),
                h.ms(percentile(s, 50)),
                h.ms(percentile(s, 95)),
                f"{percentile(s, 50) / base:.0f}x",
            ]
            for label, s, q in results
        ],
    )
    h.dump_json(
        args.json,
        {
            label: {"queries": q, "p50_ms": percentile(s, 50) * 1000, "p95_ms": percentile(s, 95) * 1000}
            for label, s, q in results
        },
    )
    return 0


def _cursor_after(client: Any, *, pages: int) -> str:
    """The cursor of page ``pages + 1``, by following "next" links."""
    import re
    import urllib.parse

    url = "/dashboard/orders/"
    cursor = ""
    for _ in range(pages):
        html = client.get(url).content.decode()
        found = re.search(r'cursor=([^"&]+)"[^>]*rel="next"', html)
        if not found:
            break
        cursor = urllib.parse.unquote(found.group(1))
        url = f"/dashboard/orders/?cursor={urllib.parse.quote(cursor)}"
    return urllib.parse.quote(cursor)


if __name__ == "__main__":
    sys.exit(main())
