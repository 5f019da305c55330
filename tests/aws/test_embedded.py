"""The embedded profile's AWS: a moto server in its own process, found through a state file."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from payops.aws import embedded
from payops.aws.client import AwsNotConfigured, endpoint_url, is_configured
from payops.outbox.publisher import outbox_publish_due
from tests.outbox.helpers import card_order_paid


@pytest.fixture
def state_file(tmp_path, settings, monkeypatch):
    path = tmp_path / "aws-embedded.json"
    settings.PAYOPS_EMBEDDED_AWS_STATE_FILE = path
    settings.PAYOPS_AWS = "embedded"
    settings.AWS_ENDPOINT_URL = ""
    monkeypatch.setenv("PAYOPS_EMBEDDED_AWS_STATE_FILE", str(path))  # for the server's own process
    return path


def test_without_a_running_server_aws_counts_as_not_configured(state_file, settings):
    with pytest.raises(AwsNotConfigured, match="aws_embedded_up"):
        endpoint_url()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state_file.write_text(json.dumps({"endpoint": "http://127.0.0.1:1", "pid": int(dead.stdout)}))
    assert not is_configured()  # a state file left behind by a dead server is ignored
    state_file.write_text(json.dumps({"endpoint": "http://127.0.0.1:1", "pid": os.getpid()}))
    assert endpoint_url() == "http://127.0.0.1:1"
    settings.PAYOPS_AWS = "off"
    assert not is_configured()


def _reap(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return True
        except ChildProcessError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db
def test_aws_embedded_up_starts_moto_deploys_and_the_server_follows_its_watcher(state_file, capsys):
    watcher = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        call_command("aws_embedded_up", watch_pid=watcher.pid)
        server = embedded.running_server()
        assert server is not None and embedded.is_answering(server.endpoint)
        assert "embedded AWS (moto) at http://127.0.0.1:" in capsys.readouterr().out

        # payops finds it without configuration, and the deployed stack is there
        order = card_order_paid()
        assert outbox_publish_due().published == 1
        assert [e.detail["order"]["number"] for e in embedded.archived_events(server.endpoint)] == [order.number]

        # running it again reuses the live server
        call_command("aws_embedded_up", watch_pid=watcher.pid)
        assert embedded.running_server() == server
    finally:
        watcher.kill()
        watcher.wait()
    # the watched process is gone: the server stops and removes its state file
    assert _reap(server.pid, timeout=20)
    assert not state_file.exists()
    assert not is_configured()
