"""The small things a new user meets in the first minutes (issue 14.14): each says what a person
should see, not what the code happens to do."""

from __future__ import annotations

import pytest

from payops.workflow.definition import Succeed, Wait, Workflow
from payops.workflow.registry import register, unregister
from payops.workflow.services import execution_start
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_every_page_has_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header: reserved 0, type 1 (icon)


def test_the_admin_names_the_staff_levels_in_good_english(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "Staff access levels" in html and "accesss" not in html


@pytest.fixture
def waiting_order():
    register(Workflow("pages-wait", "Pause", {"Pause": Wait(seconds=3600, next="Done"), "Done": Succeed()}))
    order = make_order(status="fulfilling")
    execution_start(workflow="pages-wait", input={"order_id": order.pk}, order_id=order.pk)
    yield order
    unregister("pages-wait")


def test_a_waiting_workflow_step_says_when_once(admin_client, waiting_order):
    html = admin_client.get(f"/dashboard/orders/{waiting_order.number}/").content.decode()
    waiting = html.split('class="card waiting"')[1].split("</section>")[0]
    assert "Workflow step Pause" in waiting and "waits until <time" in waiting
    assert "until until" not in waiting


def test_the_dev_console_prints_a_warning_once_and_no_task_chatter(tmp_path):
    """./dev up runs DEBUG with tasks in process: a 404 warning used to print twice, and every
    task printed its result at INFO (issue 14.14)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import django, logging; django.setup();"
        "logging.getLogger('django.request').warning('Not Found: /probe');"
        "logging.getLogger('celery.app.trace').info('Task probe succeeded');"
        "from payops.celery import app; conn = app.connection_for_write(); conn._info()"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env.update(DJANGO_SETTINGS_MODULE="payops.settings", DJANGO_DEBUG="true", LOG_LEVEL="INFO")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Not Found: /probe") == 1, done.stderr
    assert "Task probe succeeded" not in done.stderr and "No hostname was supplied" not in done.stderr


def test_the_simulators_webhook_secret_is_written_down(settings):
    """Someone posting signed events to the demo needs the secret the simulator signs with."""
    from pathlib import Path

    if not settings.PAYMENT_SIMULATOR:
        pytest.skip("the simulator is not the gateway in this environment")
    secret = settings.STRIPE_WEBHOOK_SECRETS[0]
    root = Path(__file__).resolve().parents[2]
    for doc in ("README.md", ".env.example"):
        assert secret in (root / doc).read_text(), doc
