"""Keyset ("cursor") pagination: a page starts after the last row of the previous one.

The cursor holds the sort value and primary key of the row to continue from, signed so a
client cannot hand us anything but a cursor we made. Unlike OFFSET, the cost of a page does
not grow with how deep it is, and rows arriving meanwhile do not shift the pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
_SALT = "payops.dashboard.cursor"


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Ordering:
    """Sort by ``field`` (descending if ``descending``), the pk breaking ties the same way."""

    field: str
    descending: bool

    def order_by(self, *, reverse: bool = False) -> tuple[str, str]:
        down = self.descending != reverse
        sign = "-" if down else ""
        return (f"{sign}{self.field}", f"{sign}pk")

    def after(self, value: Any, pk: int, *, reverse: bool = False) -> Q:
        op = "lt" if self.descending != reverse else "gt"
        return Q(**{f"{self.field}__{op}": value}) | Q(**{self.field: value, f"pk__{op}": pk})


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def _encode(value: Any, pk: int, direction: str) -> str:
    if isinstance(value, dt.datetime):
        value = {"dt": value.isoformat()}
    return signing.dumps({"v": value, "pk": pk, "d": direction}, salt=_SALT, compress=True)


def _decode(cursor: str) -> tuple[Any, int, str]:
    try:
        data = signing.loads(cursor, salt=_SALT)
        value, pk, direction = data["v"], int(data["pk"]), data["d"]
        if isinstance(value, dict):
            value = dt.datetime.fromisoformat(value["dt"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor("the cursor is not one of ours") from exc
    if direction not in ("next", "prev"):
        raise InvalidCursor("the cursor has no direction")
    return value, pk, direction


def paginate(
    queryset: QuerySet[M],
    ordering: Ordering,
    *,
    cursor: str | None,
    size: int,
    value_of: Callable[[M], Any] | None = None,
) -> Page:
    """One page of ``queryset`` in ``ordering``: one query, whatever the page's depth."""
    value_of = value_of or (lambda row: getattr(row, ordering.field))
    direction = "next"
    if cursor:
        value, pk, direction = _decode(cursor)
        queryset = queryset.filter(ordering.after(value, pk, reverse=direction == "prev"))
    backwards = direction == "prev"
    rows: Sequence[M] = list(queryset.order_by(*ordering.order_by(reverse=backwards))[: size + 1])
    more = len(rows) > size
    rows = list(rows[:size])
    if backwards:
        rows.reverse()
    if not rows:
        return Page([], None, None)
    first, last = rows[0], rows[-1]
    has_next = more if not backwards else True
    has_prev = bool(cursor) if not backwards else more
    return Page(
        rows,
        _encode(value_of(last), last.pk, "next") if has_next else None,
        _encode(value_of(first), first.pk, "prev") if has_prev else None,
    )
