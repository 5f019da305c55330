"""How deeply a JSON text nests, measured before it is parsed (issue 13.8).

Python's json module parses recursively: a body of ~1,000 nested brackets raises RecursionError,
which no edge expected, so an anonymous client could make any JSON endpoint answer 500 (and a
value that deep would be refused by PostgreSQL's jsonb anyway). The edges measure the nesting
first and refuse such a body as malformed. Nothing payops receives nests deeper than a dozen
levels; ``MAX_JSON_DEPTH`` leaves ample room for Stripe's expanded objects.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64

# A JSON string (brackets inside it do not nest anything), or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_too_deep(body: bytes, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` opens more than ``limit`` arrays or objects inside each other.

    Measured on the text, without parsing it, so it is safe on any input (malformed text is the
    parser's business afterwards).
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than the brackets it has: the common case, at C speed
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False
