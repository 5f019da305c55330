"""Reads behind the orders list: filters, search, sorting, pages, counts per status, CSV rows.

Every page is a constant number of queries, each served by an index at a million orders
(orders/migrations/0004_dashboard_indexes.py): the page itself (keyset, joined with the
customer, the newest payment's method as a correlated subquery), and the counts per status as a
separate request that is cached briefly (docs/adr/0011-dashboard.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orders.dashboard.cursor import Ordering, Page, paginate
from orders.models import Order, Payment
from orders.models.payments import PaymentMethod

METHOD_LABELS: dict[str, Any] = {
    PaymentMethod.CARD: gettext_lazy("Card"),
    PaymentMethod.KONBINI: gettext_lazy("Konbini"),
    PaymentMethod.BANK_TRANSFER: gettext_lazy("Bank transfer"),
    PaymentMethod.OUTSIDE: gettext_lazy("Paid outside Stripe"),
}


def method_label(method: str | None) -> str:
    """The payment method's name in the reader's language (the model's labels are English only)."""
    return str(METHOD_LABELS.get(method or "", method or ""))


SORTS = {
    "newest": Ordering("created_at", descending=True),
    "oldest": Ordering("created_at", descending=False),
    "amount_desc": Ordering("total_amount", descending=True),
    "amount_asc": Ordering("total_amount", descending=False),
}
PAGE_SIZE = 50
COUNTS_CACHE_SECONDS = 30
_NUMBER_PREFIX = "PO-"


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    method: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    currency: str = ""
    amount_min: int | None = None  # minor units of ``currency``
    amount_max: int | None = None
    query: str = ""
    sort: str = "newest"

    def cache_key(self) -> str:
        data = {k: str(v) for k, v in asdict(self).items() if k not in ("status", "sort")}
        return "dashboard:status-counts:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search_orders(orders: QuerySet[Order], query: str) -> QuerySet[Order]:
    """An email (exact), a PaymentIntent id (exact), or an order number (whole or its start)."""
    query = query.strip()
    if not query:
        return orders
    if "@" in query:
        return orders.filter(customer__email=query.lower())
    if query.startswith("pi_"):
        return orders.filter(pk__in=Payment.objects.filter(intent_id=query).values("order_id"))
    number = query.upper()
    if not number.startswith(_NUMBER_PREFIX):
        number = _NUMBER_PREFIX + number
    if len(number) == len("PO-XXXX-XXXX"):
        return orders.filter(number=number)
    return orders.filter(number__startswith=number)


def filtered_orders(filters: OrderFilters, *, by_status: bool = True) -> QuerySet[Order]:
    orders = Order.objects.all()
    if by_status and filters.status:
        orders = orders.filter(status=filters.status)
    if filters.method:
        orders = orders.filter(Exists(Payment.objects.filter(order=OuterRef("pk"), method=filters.method)))
    if filters.created_from:
        orders = orders.filter(created_at__gte=_start_of(filters.created_from))
    if filters.created_to:
        orders = orders.filter(created_at__lt=_start_of(filters.created_to + dt.timedelta(days=1)))
    if filters.amount_min is not None or filters.amount_max is not None:
        orders = orders.filter(currency=filters.currency)
        if filters.amount_min is not None:
            orders = orders.filter(total_amount__gte=filters.amount_min)
        if filters.amount_max is not None:
            orders = orders.filter(total_amount__lte=filters.amount_max)
    return search_orders(orders, filters.query)


def _for_rows(orders: QuerySet[Order]) -> QuerySet[Order]:
    newest_payment = Payment.objects.filter(order=OuterRef("pk")).order_by("-pk")
    return (
        orders.select_related("customer")
        .only(
            "number",
            "status",
            "currency",
            "total_amount",
            "created_at",
            "paid_at",
            "payment_expires_at",
            "last_event_sequence",
            "customer__email",
        )
        .annotate(
            method=Subquery(newest_payment.values("method")[:1]),
            intent_id=Subquery(newest_payment.values("intent_id")[:1]),
        )
    )


def orders_page(filters: OrderFilters, *, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    ordering = SORTS.get(filters.sort, SORTS["newest"])
    return paginate(_for_rows(filtered_orders(filters)), ordering, cursor=cursor, size=size)


def status_counts(filters: OrderFilters) -> dict[str, int]:
    """Orders per status under every filter but the status (the tabs), briefly cached."""
    key = filters.cache_key()
    counts = cache.get(key)
    if counts is None:
        rows = filtered_orders(filters, by_status=False).order_by().values_list("status").annotate(n=Count("pk"))
        counts = dict(rows)
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def orders_for_export(filters: OrderFilters, *, chunk: int = 2000) -> Iterator[Order]:
    """Every order of the filtered set, in the list's order, read in keyset chunks: memory and
    query time stay flat however many rows the export has."""
    ordering = SORTS.get(filters.sort, SORTS["newest"])
    rows = _for_rows(filtered_orders(filters))
    cursor: str | None = None
    while True:
        page = paginate(rows, ordering, cursor=cursor, size=chunk)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
