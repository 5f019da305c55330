"""The embedded profile's AWS: a moto server on 127.0.0.1 and a free port.

``manage.py aws_embedded_up`` (run by ``./dev up``) starts ``manage.py aws_embedded_serve`` as a
child process in its own session, waits for it, and deploys the infrastructure there. The child
writes its address to a state file under ``var/``; every payops process of the embedded profile
(the web server, ``run_schedule``) finds moto through that file, so it works across processes
and the port never needs configuring. The child exits when the process that started ``./dev up``
is gone, so no moto server outlives its demo.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class EmbeddedServer:
    endpoint: str
    pid: int


def _state_file() -> Path:
    return Path(settings.PAYOPS_EMBEDDED_AWS_STATE_FILE)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def running_server() -> EmbeddedServer | None:
    """The embedded server named in the state file, if its process is still alive."""
    try:
        state = json.loads(_state_file().read_text())
        server = EmbeddedServer(endpoint=str(state["endpoint"]), pid=int(state["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return server if _pid_alive(server.pid) else None


def is_answering(endpoint: str, *, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=timeout) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def serve(*, watch_pid: int | None, poll_seconds: float = 1.0) -> None:
    """Run moto in this process until ``watch_pid`` exits (or forever without one)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    state_file = _state_file()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps({"endpoint": f"http://{host}:{port}", "pid": os.getpid()}))
    temporary.replace(state_file)  # atomic: readers never see half a file
    try:
        while watch_pid is None or _pid_alive(watch_pid):
            time.sleep(poll_seconds)
    finally:
        # Remove the state file only if it is still ours (a newer server may have replaced it).
        with contextlib.suppress(OSError, ValueError):
            if json.loads(state_file.read_text()).get("pid") == os.getpid():
                state_file.unlink()
        server.stop()


def start_in_background(*, watch_pid: int, log_path: Path, wait_seconds: float = 30.0) -> EmbeddedServer:
    """Start the server as a child process (or reuse a live one) and wait until it answers."""
    current = running_server()
    if current is not None and is_answering(current.endpoint):
        return current
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "aws_embedded_serve",
                "--watch-pid",
                str(watch_pid),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal stops the web server, and this child
            # follows when it sees the watched process gone, not halfway through a request.
            start_new_session=True,
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        server = running_server()
        if server is not None and server.pid == process.pid and is_answering(server.endpoint):
            return server
        if process.poll() is not None:
            raise RuntimeError(f"the embedded AWS server exited with {process.returncode}; see {log_path}")
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the embedded AWS server did not start within {wait_seconds:.0f} s; see {log_path}")


def moto_state(endpoint: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """moto's whole in-memory state (its ``/moto-api/data.json``), for the demo's admin pages."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=timeout) as response:  # noqa: S310
        return dict(json.loads(response.read()))


# --- what the demo shows: moto's SES outbox and EventBridge archive -----------------------------
# Only these two parts of moto's state are read out: it also holds the demo secrets.


@dataclass(frozen=True)
class SentMail:
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    language: str
    text: str


@dataclass(frozen=True)
class ArchivedEvent:
    event_id: str
    time: dt.datetime  # aware (UTC); pages show it in TIME_ZONE like every other time
    detail_type: str
    source: str
    detail: dict[str, object]


def sent_mails(endpoint: str) -> list[SentMail]:
    state = moto_state(endpoint).get("ses") or {}
    mails = []
    for raw in state.get("RawMessage", []):
        message = email.message_from_string(raw.get("raw_data", ""), policy=email.policy.default)
        body = message.get_body(("plain",)) if isinstance(message, EmailMessage) else None
        mails.append(
            SentMail(
                message_id=str(raw.get("id", "")),
                sender=str(message.get("From", "")),
                # moto lists a recipient once per source (API and header): show each once.
                recipients=list(dict.fromkeys(raw.get("destinations") or [])),
                subject=str(message.get("Subject", "")),
                language=str(message.get("Content-Language", "")),
                text=body.get_content() if body is not None else "",
            )
        )
    return list(reversed(mails))


def archived_events(endpoint: str) -> list[ArchivedEvent]:
    """Every event the bus received (the stack's archive keeps them all), newest first."""
    state = moto_state(endpoint).get("events") or {}
    events = []
    for archive in state.get("Archive", []):
        for event in archive.get("events", []):
            events.append(
                ArchivedEvent(
                    event_id=str(event.get("id", "")),
                    time=_event_time(event.get("time")),
                    detail_type=str(event.get("detail-type", "")),
                    source=str(event.get("source", "")),
                    detail=dict(event.get("detail") or {}),
                )
            )
    return sorted(events, key=lambda e: e.time, reverse=True)


def _event_time(value: object) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)
