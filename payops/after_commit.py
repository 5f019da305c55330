"""Work handed on after commit (a task to the broker) that must never fail the transaction's caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def send_after_commit_robustly(func: Callable[..., Any], *args: Any) -> None:
    """Call ``func(*args)`` after commit; an error (a broker that is down) is logged, not raised:
    what was committed stays, and the sweep that owns the rows sends them later.

    Django's robust ``on_commit`` names a failing callback by its ``__qualname__``, which a
    ``functools.partial`` lacks: the AttributeError then escapes the guard (Django 5.2) and the
    request answers 500. So the callback is a named function, never a partial.
    """

    def send() -> None:
        func(*args)

    send.__qualname__ = f"{getattr(func, '__qualname__', type(func).__qualname__)}(after commit)"
    transaction.on_commit(send, robust=True)
