"""The workflow engine's cost: K executions of a 5-step workflow against K plain Celery chains
of the same 5 no-op tasks, on the same Celery workers, Redis and PostgreSQL, in the same run.

A workflow step is a Celery message like a chain link, plus what makes it survive workers and
brokers: the step row claimed under the execution's lock, the result recorded, the next step
row written, all in PostgreSQL. The difference per step is the engine's overhead.

Phases, each with the workers' consumers paused while the work is enqueued, then resumed:

1. chains     — K ``chain(noop × 5)``, the last link reports to Redis;
2. workflows  — K executions of Step1 → … → Step5 (5 no-op Task states);
3. at rest    — one chain, then one execution, at a time: the latency of one run.

    .venv/bin/python bench/workflow.py            # K = 500, 2 solo workers
    .venv/bin/python bench/workflow.py --quick    # K = 50

The module is also the workers' Celery app (``celery -A workflow``): it registers the bench
workflow and the baseline task in every process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]
import _harness as h  # noqa: E402
from celery import chain, shared_task  # noqa: E402

from payops.celery import app  # noqa: E402  (the workers' Celery app)
from payops.workflow.definition import StepContext, Task, Workflow  # noqa: E402
from payops.workflow.registry import register  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/13"
DATABASE = "payops_bench_workflow"
STEPS = 5
DONE_KEY = "bench:workflow:chain-done"


def noop_step(ctx: StepContext) -> dict[str, int]:
    return {"step": ctx.attempt}


BENCH_WORKFLOW = register(
    Workflow(
        "bench_five_steps",
        "Step1",
        {
            **{f"Step{i}": Task(run=noop_step, result_path=f"$.s{i}", next=f"Step{i + 1}") for i in range(1, STEPS)},
            f"Step{STEPS}": Task(run=noop_step, result_path=f"$.s{STEPS}", end=True),
        },
    )
)


@shared_task(name="bench.workflow.noop", ignore_result=True)
def noop(run: int, link: int, enqueued_at: float) -> None:
    if link == STEPS:
        import redis

        redis.Redis.from_url(REDIS_URL).rpush(DONE_KEY, time.time() - enqueued_at)


def noop_chain(run: int) -> Any:
    now = time.time()
    return chain(*(noop.si(run, link, now).set(queue="workflow") for link in range(1, STEPS + 1)))


# --- phases ----------------------------------------------------------------------------------


def pause(workers: int) -> None:
    """Consumers off while work is enqueued, so a phase measures processing, not enqueueing."""
    replies = app.control.cancel_consumer("workflow", reply=True, timeout=10, limit=workers)
    if len(replies) < workers:
        raise h.HarnessError(f"only {len(replies)} of {workers} workers paused")


def resume(workers: int) -> None:
    replies = app.control.add_consumer("workflow", reply=True, timeout=10, limit=workers)
    if len(replies) < workers:
        raise h.HarnessError(f"only {len(replies)} of {workers} workers resumed")


def run_chains(k: int, workers: int, redis: Any) -> dict[str, float]:
    redis.delete(DONE_KEY)
    pause(workers)
    for i in range(k):
        noop_chain(i).apply_async()
    with h.CpuMeter() as meter:
        resume(workers)
        wait_until(lambda: redis.llen(DONE_KEY) >= k, what=f"{k} chains")
    return {"seconds": meter.wall, "per_second": k / meter.wall, **cpu(meter)}


def run_workflows(k: int, workers: int) -> dict[str, float]:
    from payops.workflow.models import ExecutionStatus, WorkflowExecution
    from payops.workflow.services import execution_start

    first = (WorkflowExecution.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    pause(workers)
    for i in range(k):
        execution_start(workflow=BENCH_WORKFLOW.name, input={"run": i})
    mine = WorkflowExecution.objects.filter(pk__gte=first, workflow=BENCH_WORKFLOW.name)
    with h.CpuMeter() as meter:
        resume(workers)
        wait_until(lambda: mine.filter(status=ExecutionStatus.SUCCEEDED).count() >= k, what=f"{k} executions")
    failed = mine.exclude(status=ExecutionStatus.SUCCEEDED).count()
    if failed:
        raise h.HarnessError(f"{failed} executions did not succeed")
    return {"seconds": meter.wall, "per_second": k / meter.wall, **cpu(meter)}


def at_rest(n: int, redis: Any) -> dict[str, float]:
    """One run at a time: median latency of a chain and of an execution, enqueue to done."""
    from payops.workflow.models import ExecutionStatus, WorkflowExecution
    from payops.workflow.services import execution_start

    chains, executions = [], []
    for i in range(n):
        redis.delete(DONE_KEY)
        noop_chain(i).apply_async()
        wait_until(lambda: redis.llen(DONE_KEY) >= 1, what="one chain")
        chains.append(float(redis.lpop(DONE_KEY)))
        started = time.perf_counter()
        execution = execution_start(workflow=BENCH_WORKFLOW.name, input={"run": i})
        done = WorkflowExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.SUCCEEDED)
        wait_until(done.exists, what="one execution", poll=0.002)
        executions.append(time.perf_counter() - started)
    return {"chain": statistics.median(chains), "workflow": statistics.median(executions)}


def queries_per_step() -> float:
    """SQL statements (BEGIN and COMMIT included) per step, one execution run in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payops.workflow import dispatch
    from payops.workflow.models import StepRun, StepStatus
    from payops.workflow.runner import step_run
    from payops.workflow.services import execution_start

    send, dispatch.send_step = dispatch.send_step, lambda *args, **kwargs: None  # run here, one by one
    try:
        execution = execution_start(workflow=BENCH_WORKFLOW.name, input={"run": -1})
        with CaptureQueriesContext(connection) as queries:
            for _ in range(STEPS):
                step = StepRun.objects.get(execution=execution, status=StepStatus.SCHEDULED)
                step_run(step_id=step.pk, execution_id=execution.pk)
        return (len(queries.captured_queries) - STEPS) / STEPS  # less the test's own lookups
    finally:
        dispatch.send_step = send


def wait_until(condition: Any, *, what: str, limit: float = 600, poll: float = 0.05) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise h.HarnessError(f"{what} not done within {limit:.0f} s")
        time.sleep(poll)


def cpu(meter: h.CpuMeter) -> dict[str, float]:
    parts = meter.usage.parts
    workers = sum(v for name, v in parts.items() if name.startswith("worker"))
    return {"worker_cores": workers, "postgres_cores": parts.get("postgres", 0.0), "machine": meter.usage.machine}


# --- the run ---------------------------------------------------------------------------------


def worker_argv(k: int) -> list[str]:
    return [
        h.which("celery"), "-A", "workflow", "worker", "-Q", "workflow", "--concurrency", "1", "-P", "solo",
        "-n", f"wfbench{k}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def report(k: int, workers: int, chains: dict[str, float], flows: dict[str, float], rest: dict[str, float], q: float):
    steps = k * STEPS

    def per_step_ms(figures: dict[str, float], key: str) -> float:
        return figures[key] * figures["seconds"] / steps * 1000

    rows = [
        ["plain Celery chains", f"{chains['per_second']:.1f}", f"{chains['seconds']:.2f}",
         f"{chains['seconds'] / steps * 1000:.2f}", f"{per_step_ms(chains, 'worker_cores'):.2f}",
         f"{per_step_ms(chains, 'postgres_cores'):.2f}", f"{rest['chain'] * 1000:.1f}"],
        ["workflow executions", f"{flows['per_second']:.1f}", f"{flows['seconds']:.2f}",
         f"{flows['seconds'] / steps * 1000:.2f}", f"{per_step_ms(flows, 'worker_cores'):.2f}",
         f"{per_step_ms(flows, 'postgres_cores'):.2f}", f"{rest['workflow'] * 1000:.1f}"],
    ]  # fmt: skip
    print("## Results")
    h.print_table(
        [f"{k} runs of {STEPS} no-op steps", "runs/s", "wall s", "wall ms/step", "worker CPU ms/step",
         "PostgreSQL CPU ms/step", "one run at rest, ms"],
        rows,
    )  # fmt: skip
    print()
    print(f"ratio workflow / chain throughput: {flows['per_second'] / chains['per_second']:.2f}")
    overhead = (flows["seconds"] - chains["seconds"]) / steps * 1000
    print(f"engine overhead per step: {overhead:.2f} ms wall with {workers} workers busy, ", end="")
    print(f"{(rest['workflow'] - rest['chain']) / STEPS * 1000:.1f} ms latency at rest, ", end="")
    print(f"{q:.1f} SQL statements incl. BEGIN/COMMIT (two transactions)")
    print(f"machine busy: chains {chains['machine']:.2f} cores, workflows {flows['machine']:.2f} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", type=int, default=500, help="runs per phase (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="solo Celery worker processes (default 2)")
    parser.add_argument("--at-rest", type=int, default=20, help="single runs for the latency phase (default 20)")
    parser.add_argument("--quick", action="store_true", help="K = 50, 5 single runs")
    parser.add_argument(
        "--conn-max-age",
        default=os.environ.get("DATABASE_CONN_MAX_AGE", "0"),
        help="DATABASE_CONN_MAX_AGE of the workers (default: the environment's, else payops's default 0)",
    )
    args = parser.parse_args()
    if args.quick:
        args.k, args.at_rest = 50, 5

    db = h.prepare_database(DATABASE)
    env = h.server_env(
        db,
        REDIS_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        PAYOPS_AWS="off",
        PYTHONPATH=f"{BENCH}:{BENCH.parent}",
    )
    h.migrate(env)
    h.setup_django(env)
    import redis

    redis_client = redis.Redis.from_url(REDIS_URL)
    redis_client.flushdb()  # the bench's own database number
    app.conf.task_always_eager = False
    h.print_header(
        "Workflow engine vs plain Celery chains",
        db,
        {
            "runs": f"K = {args.k} per phase, {STEPS} steps each",
            "workers": f"{args.workers} x celery -P solo, DATABASE_CONN_MAX_AGE={args.conn_max_age}",
        },
    )
    with h.Processes("workflow") as processes:
        workers = [processes.start(f"celery-{n}", worker_argv(n), env) for n in range(1, args.workers + 1)]
        for n, worker in enumerate(workers, 1):
            h.watch_cpu(f"worker {n}", worker)
        wait_until(lambda: len(app.control.ping(timeout=1)) >= args.workers, what="workers up", limit=60)
        at_rest(3, redis_client)  # warm-up: imports, connections
        chains = run_chains(args.k, args.workers, redis_client)
        flows = run_workflows(args.k, args.workers)
        rest = at_rest(args.at_rest, redis_client)
        for name in (f"celery-{n}" for n in range(1, args.workers + 1)):
            if "Traceback" in processes.log_tail(name, 200):
                print(f"worker log {name}:\n{processes.log_tail(name)}")
    q = queries_per_step()
    report(args.k, args.workers, chains, flows, rest, q)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payops.settings")
    main()
