"""The floor under every Django page and API call: a no-op view (``GET /livez``) served three ways
in one run, so the ratio is the figure to compare (the machine is noisy; absolute rates drift).

* WSGI — ``uvicorn payops.wsgi:application --interface wsgi``: the baseline, no ASGI at all.
* payops.asgi — the production command's application (ADR 0013: Django HTTP on a bounded thread
  pool, one hop per request; WebSockets and the webhook edge on the event loop).
* Django ASGI handler — ``bench/django_asgi.py``: Django's ``get_asgi_application()`` as it is,
  which is what payops served through before (issue 24: ~34 sync↔async adaptations a request).

One uvicorn process each, 16 concurrent keep-alive clients, rounds interleaved (A, B, C, A, B, C…)
so drift hits all three alike. Aim: payops.asgi / WSGI ≥ 0.7.

    .venv/bin/python bench/http_floor.py            # 3000 requests per phase, 3 rounds
    .venv/bin/python bench/http_floor.py --quick    # one short round
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SERVERS = [
    ("WSGI (baseline)", "payops.wsgi:application", "wsgi"),
    ("payops.asgi (production)", "payops.asgi:application", "asgi3"),
    ("Django ASGI handler", "bench.django_asgi:application", "asgi3"),
]
AIM = 0.7


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase and round (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds per phase and round at most")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 requests, one round")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds = min(args.requests, 300), 1
    return args


async def measure(servers: list[tuple[str, h.Server]], args: argparse.Namespace) -> dict[str, list[h.LoadResult]]:
    rounds: dict[str, list[h.LoadResult]] = {label: [] for label, _ in servers}
    for _ in range(args.rounds):
        for label, server in servers:
            pool = h.ConnectionPool(server.base_url)

            async def no_op(i: int, pool: h.ConnectionPool = pool) -> str | None:
                status, body = await pool.request("GET", "/livez")
                return h.unexpected_status(status, body, 200)

            try:
                # A few requests first: the first ones pay for imports and connections.
                for i in range(20):
                    await no_op(i)
                rounds[label].append(
                    await h.closed_loop(
                        label, no_op, total=args.requests, concurrency=args.concurrency, time_limit=args.time_limit
                    )
                )
            finally:
                await pool.close()
    return rounds


def main() -> int:
    args = parse_args()
    db = h.prepare_database("payops_bench_floor")
    # The no-op view touches no database and no cache; production settings all the same.
    env = h.server_env(db, REDIS_URL="")
    h.print_header(
        "HTTP floor: a no-op Django view, WSGI vs ASGI",
        db,
        {
            "servers": "one uvicorn process each: " + ", ".join(f"{label} = {app}" for label, app, _ in SERVERS),
            "load": f"GET /livez, {args.requests} requests x {args.rounds} interleaved round(s), "
            f"{args.concurrency} concurrent keep-alive clients",
        },
    )
    h.migrate(env)
    with h.Processes("http-floor") as processes:
        servers = []
        for n, (label, app, interface) in enumerate(SERVERS):
            port = h.free_port()
            servers.append(
                (
                    label,
                    h.start_server(
                        processes, env, port=port, workers=1, app=app, interface=interface, name=f"server{n}"
                    ),
                )
            )
        rounds = asyncio.run(measure(servers, args))
    results = [h.merge_results(label, rounds[label]) for label, _ in servers]
    baseline = results[0].per_second
    h.print_table(
        [*h.LOAD_HEADER, "vs WSGI"],
        [[*h.load_row(result), h.ratio(result.per_second, baseline)] for result in results],
    )
    for result in results:
        h.print_errors(result)
    print()
    h.print_cpu(results)
    production = results[1].per_second / baseline if baseline else 0.0
    verdict = "met" if production >= AIM else "MISSED"
    print(f"\npayops.asgi / WSGI = {production:.2f} (aim >= {AIM}: {verdict})")
    per_round = [
        h.ratio(rounds[SERVERS[1][0]][k].per_second, rounds[SERVERS[0][0]][k].per_second) for k in range(args.rounds)
    ]
    print(f"per round: {', '.join(per_round)}")
    h.dump_json(args.json, {r.label: h.summary(r) for r in results} | {"ratio": round(production, 3)})
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
