"""Work handed on after commit (a task to the broker) that must never fail the transaction's caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction


class TaskHook:
    """Stands in for the Celery task a service hands work to; its app's ``ready()`` connects it.

    A task module imports the services it runs, so a service cannot import the task back: it
    calls ``delay`` / ``apply_async`` here, which reach the connected task (every process that
    runs Django, web or worker, connected it before serving a request or running a task).
    """

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self._task: Task[Any, Any] | None = None

    def connect(self, task: Task[Any, Any]) -> None:
        self._task = task

    @property
    def task(self) -> Task[Any, Any]:
        if self._task is None:
            raise ImproperlyConfigured(f"no task is connected to {self.purpose} (is its app installed?)")
        return self._task

    def delay(self, *args: Any, **kwargs: Any) -> None:
        self.task.delay(*args, **kwargs)

    def apply_async(self, *args: Any, **kwargs: Any) -> None:
        self.task.apply_async(*args, **kwargs)


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
