"""A fake Stripe API over real HTTP, for asserting exactly what payops sends to Stripe.

Runs a threaded HTTP server on a free loopback port. Each request is recorded (method, path,
decoded form params, headers) and answered by a responder chosen per test, so tests can check
parameters and idempotency keys, and inject server errors, timeouts and card declines.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


Responder = Callable[[RecordedRequest], tuple[int, dict[str, Any]]]


def payment_intent_json(**overrides: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": "pi_fake_1",
        "object": "payment_intent",
        "amount": 1500,
        "amount_received": 0,
        "currency": "jpy",
        "status": "requires_payment_method",
        "client_secret": "pi_fake_1_secret_abc",
        "next_action": None,
        "last_payment_error": None,
        "payment_method_types": ["card"],
        "metadata": {},
        "livemode": False,
        "created": int(time.time()),
    }
    intent.update(overrides)
    return intent


def konbini_next_action(expires_at: int) -> dict[str, Any]:
    return {
        "type": "konbini_display_details",
        "konbini_display_details": {
            "expires_at": expires_at,
            "hosted_voucher_url": "https://payments.stripe.com/konbini/voucher/test_1",
            "stores": {
                "familymart": {"confirmation_number": "12345678901", "payment_code": "123456"},
                "lawson": {"confirmation_number": "12345678901", "payment_code": "123456"},
                "ministop": {"confirmation_number": "12345678901", "payment_code": "123456"},
                "seicomart": {"confirmation_number": "12345678901", "payment_code": "123456"},
            },
        },
    }


def bank_transfer_next_action(amount_remaining: int) -> dict[str, Any]:
    return {
        "type": "display_bank_transfer_instructions",
        "display_bank_transfer_instructions": {
            "amount_remaining": amount_remaining,
            "currency": "jpy",
            "type": "jp_bank_transfer",
            "reference": "PAYOPS-REF",
            "hosted_instructions_url": "https://payments.stripe.com/bank_transfers/instructions/test_1",
            "financial_addresses": [
                {
                    "type": "zengin",
                    "supported_networks": ["zengin"],
                    "zengin": {
                        "account_holder_name": "ストライプジャパン（カ",
                        "account_number": "1234567",
                        "account_type": "futsu",
                        "bank_code": "0001",
                        "bank_name": "みずほ銀行",
                        "branch_code": "101",
                        "branch_name": "東京営業部",
                    },
                }
            ],
        },
    }


def _default_responder(request: RecordedRequest) -> tuple[int, dict[str, Any]]:
    return 404, {"error": {"type": "invalid_request_error", "message": f"no fake for {request.path}"}}


@dataclass
class FakeStripeApi:
    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    responder: Responder = _default_responder
    delay_seconds: float = 0.0

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]


def _handler_for(fake: FakeStripeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            parsed = urllib.parse.urlsplit(self.path)
            query = parsed.query if self.command == "GET" else body
            request = RecordedRequest(
                method=self.command,
                path=parsed.path,
                params=dict(urllib.parse.parse_qsl(query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            fake.requests.append(request)
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            status, payload = fake.responder(request)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_fake_{len(fake.requests)}")
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = _handle
        do_POST = _handle
        do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class FakeStripeServer:
    def __init__(self) -> None:
        self.fake = FakeStripeApi()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.fake))
        self.server.daemon_threads = True
        self.fake.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeStripeApi:
        self.thread.start()
        return self.fake

    def reset(self) -> None:
        self.fake.requests.clear()
        self.fake.responder = _default_responder
        self.fake.delay_seconds = 0.0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


KONBINI_ACTION = konbini_next_action(2_000_000_000)
