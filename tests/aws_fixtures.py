"""A moto server over real HTTP for tests of payops's AWS side, and helpers to read its state.

Imported by the ``conftest.py`` of tests/aws, tests/outbox and tests/mail. One server serves the
whole session; each test starts from a reset moto (``POST /moto-api/reset``).
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.server import ThreadedMotoServer

from payops.aws.client import aws_client, forget_clients
from payops.aws.infra import deploy_infrastructure

REGION = "ap-northeast-1"

# Known moto gap (docs/testing.md, "Real parts"): its CloudFormation skips queue policies; AWS applies them.
_QUEUE_POLICY_WARNING = ".*AWS::SQS::QueuePolicy.*"
# One access-log line per moto request drowns the output of a failing test.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Moto:
    endpoint: str
    _handlers: list[tuple[Any, str, Callable[..., Any]]] = field(default_factory=list)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=10) as response:
            return json.loads(response.read())

    def sent_mails(self) -> list[EmailMessage]:
        """Every mail SES accepted, parsed from the raw MIME payops sent."""
        raw = self.state().get("ses", {}).get("RawMessage", [])
        return [email.message_from_string(m["raw_data"], policy=email.policy.default) for m in raw]  # type: ignore[misc]

    def on(self, service: str, event: str, handler: Callable[..., Any]) -> None:
        """Register a botocore event handler on payops's client (removed after the test)."""
        events = aws_client(service).meta.events
        events.register(event, handler)
        self._handlers.append((events, event, handler))

    def remove_handlers(self) -> None:
        for events, event, handler in self._handlers:
            events.unregister(event, handler)
        self._handlers.clear()


def error_response(status: int, code: str, message: str, *, json_protocol: bool = True) -> AWSResponse:
    """An AWS error response for a botocore ``before-send`` handler to return."""
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
    if not json_protocol:  # restJson (SES v2)
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
    return AWSResponse("https://fault.invalid/", status, headers, _Body(body))  # type: ignore[arg-type]


@pytest.fixture
def aws(moto_server: str, settings: Any) -> Iterator[Moto]:
    """payops pointed at the (freshly reset) moto server; botocore retries off unless a test asks."""
    warnings.filterwarnings("ignore", message=_QUEUE_POLICY_WARNING, category=UserWarning)
    settings.PAYOPS_AWS = "embedded"
    settings.AWS_ENDPOINT_URL = moto_server
    settings.AWS_REGION = REGION
    settings.AWS_MAX_ATTEMPTS = 1
    moto = Moto(moto_server)
    moto.reset()
    forget_clients()
    yield moto
    moto.remove_handlers()
    forget_clients()


@dataclass
class Stack:
    outputs: dict[str, str]

    def receive(self, queue: str) -> list[dict[str, Any]]:
        """Drain a consumer queue (``Fulfilment``, ``Analytics``, ``Alerts``, ``LargeKonbini``)."""
        sqs = aws_client("sqs")
        url = self.outputs[f"{queue}QueueUrl"]
        envelopes: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                return envelopes
            for message in batch:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def stack(aws: Moto) -> Stack:
    """infra/eventbridge.yaml deployed to moto, and the SES identity."""
    report = deploy_infrastructure()
    return Stack(outputs=report.outputs)
