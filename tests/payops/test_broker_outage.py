"""Issue 13.5: a Celery worker survives its Redis going away while it holds unacknowledged
messages, and goes on processing once Redis is back. A real worker, a real redis-server of the
test's own (stopped and started again), no mocks."""

from __future__ import annotations

import re
import signal

import pytest
from celery import Celery

from tests.processes import PYTHON, PrivateRedis, Service, python_env, wait_for

TASK = "tests.payops.broker_outage_tasks.sleep_then_touch"

pytestmark = pytest.mark.worker


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(redis_server, tmp_path):
    service = Service(
        "worker",
        [
            *(PYTHON, "-m", "celery", "-A", "payops", "worker", "-I", "tests.payops.broker_outage_tasks"),
            *("-Q", "default", "-c", "2", "--without-mingle", "--without-gossip", "-l", "INFO"),
        ],
        env=python_env(REDIS_URL=redis_server.url, CELERY_TASK_ALWAYS_EAGER="false"),
        workdir=tmp_path,
    )
    service.start()
    wait_for(lambda: "ready." in service.log() or not service.alive(), timeout=60, what="the worker to start")
    yield service
    if service.alive():
        service.signal(signal.SIGQUIT)  # no warm shutdown waiting on a broker that may be gone
    service.stop(timeout=10)


def test_a_worker_survives_redis_stopping_under_unacknowledged_messages(redis_server, worker, tmp_path):
    sender = Celery(broker=redis_server.url)
    # Given a busy worker: two tasks running (unacknowledged, acks_late) and more waiting.
    busy = [tmp_path / f"busy-{n}" for n in range(4)]
    for path in busy:
        sender.send_task(TASK, args=[str(path), 5], queue="default")
    wait_for(lambda: worker.log().count("] received") >= 2, timeout=30, what="two tasks to be running")

    # When Redis dies while they run, and their acknowledgements meet no broker...
    redis_server.stop(signum=signal.SIGKILL)
    wait_for(lambda: busy[0].exists() and busy[1].exists(), timeout=30, what="the running tasks to finish")
    wait_for(lambda: "Cannot connect to redis" in worker.log(), timeout=30, what="the worker to notice")
    # ...and Redis comes back (empty: the machine's Redis keeps nothing on disk either).
    redis_server.start()
    wait_for(
        lambda: len(re.findall(r"Connected to redis", worker.log())) >= 2 or not worker.alive(),
        timeout=60,
        what="the worker to reconnect",
    )

    # Then the worker is alive and processes new work.
    assert worker.alive(), worker.log()[-4000:]
    after = tmp_path / "after"
    Celery(broker=redis_server.url).send_task(TASK, args=[str(after), 0], queue="default")
    wait_for(lambda: after.exists() or not worker.alive(), timeout=60, what="a new task to be processed")
    assert after.exists() and worker.alive(), worker.log()[-4000:]
    assert "Traceback" not in worker.log(), worker.log()[-4000:]
