"""Schemathesis hooks for the CI run (tests/api/fuzz/schemathesis.toml).

Hypothesis draws simple values again and again, so generated Idempotency-Keys repeat across
operations and most POSTs would only meet "key reused for another request" (422) instead of
the operation's logic. A valid key is swapped for a fresh UUID, as a real client does; invalid
ones are kept, so the 400 for a malformed key is still exercised. Replays and conflicts are
tested in tests/api/test_idempotency*.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and _VALID_KEY.match(headers[name]):
            headers[name] = str(uuid.uuid4())
