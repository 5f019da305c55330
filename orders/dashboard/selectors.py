"""Reads behind the operations pages (webhook inbox, outbox, mail log, approval queue) and the
overview. Lists are keyset-paginated like the orders list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from orders.dashboard.cursor import Ordering, Page, paginate
from orders.models import Dispute, Order, Payment, Product, Refund
from orders.state_machine import UNPAID_STATUSES, OrderStatus
from payops.mail.models import Mail, MailStatus
from payops.outbox.models import OutboxEvent, OutboxStatus
from webhooks.models import InboxEvent, InboxStatus

PAGE_SIZE = 50
NEWEST_RECEIVED = Ordering("received_at", descending=True)
NEWEST_ROW = Ordering("id", descending=True)
OLDEST_FIRST = Ordering("updated_at", descending=False)
LOW_STOCK_UNITS = 5
OVERVIEW_CACHE_SECONDS = 30
# Part of the cache key: bump it when ``Overview`` changes shape, so processes of a rolling deploy
# never read each other's pickled overview from the shared cache.
OVERVIEW_CACHE_VERSION = 3
OPEN_DISPUTE_STATUSES = ("warning_needs_response", "needs_response", "warning_under_review", "under_review")


def inbox_page(*, status: str, type: str, provider: str, cursor: str | None) -> Page:
    # The payload stays: it names the PaymentIntent that ties a row to its order.
    rows = InboxEvent.objects.defer("last_traceback")
    if status:
        rows = rows.filter(status=status)
    if type:
        rows = rows.filter(type=type)
    if provider:
        rows = rows.filter(provider=provider)
    return paginate(rows, NEWEST_RECEIVED, cursor=cursor, size=PAGE_SIZE)


# A loose index scan: one index probe per distinct type (inbox_type_idx), where DISTINCT would
# read every row of the inbox. Recursive CTEs run on PostgreSQL and SQLite alike.
_DISTINCT_TYPES = """
WITH RECURSIVE seen(type) AS (
    SELECT MIN(type) FROM {table}
    UNION ALL
    SELECT (SELECT MIN(type) FROM {table} WHERE type > seen.type) FROM seen
    WHERE seen.type IS NOT NULL
)
SELECT type FROM seen WHERE type IS NOT NULL LIMIT 100
"""


def inbox_types() -> list[str]:
    """The event types seen, for the filter (a small set: the Stripe types payops subscribes to)."""
    with connection.cursor() as cursor:
        cursor.execute(_DISTINCT_TYPES.format(table=connection.ops.quote_name(InboxEvent._meta.db_table)))
        return [row[0] for row in cursor.fetchall()]


def outbox_page(*, status: str, cursor: str | None) -> Page:
    rows = OutboxEvent.objects.defer("detail")
    if status:
        rows = rows.filter(status=status)
    return paginate(rows, NEWEST_ROW, cursor=cursor, size=PAGE_SIZE, value_of=lambda row: row.pk)


def mail_page(*, status: str, query: str, cursor: str | None) -> Page:
    rows = Mail.objects.defer("context")
    if status:
        rows = rows.filter(status=status)
    query = query.strip()
    if "@" in query:
        rows = rows.filter(recipient__iexact=query)
    elif query:
        rows = rows.filter(reference=query.upper())
    return paginate(rows, NEWEST_ROW, cursor=cursor, size=PAGE_SIZE, value_of=lambda row: row.pk)


def approval_queue(*, cursor: str | None) -> Page:
    """Orders held for a person's approval, the longest-waiting first."""
    rows = Order.objects.filter(status=OrderStatus.AWAITING_APPROVAL).select_related("customer")
    return paginate(rows, OLDEST_FIRST, cursor=cursor, size=PAGE_SIZE)


def catalogue(*, low_only: bool) -> list[Product]:
    products = Product.objects.order_by("sku")
    rows = list(products)
    for product in rows:
        product.low_stock = product.stock_available <= LOW_STOCK_UNITS  # type: ignore[attr-defined]
    return [p for p in rows if p.low_stock] if low_only else rows  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Overview:
    paid_today: list[Any]  # {"currency", "count", "gross", "refunds", "net"}
    awaiting_by_method: list[Any]  # {"method", "count"}
    expiring_soon: int
    failed_payments: list[Order]
    failed_payments_count: int
    needs_attention: list[Order]
    needs_attention_count: int
    open_disputes: list[Dispute]
    awaiting_approval: int
    failed_webhooks: int
    dead_outbox: int
    failed_mails: int
    low_stock: int
    computed_at: dt.datetime


def cached_overview() -> Overview:
    """The overview, computed at most every OVERVIEW_CACHE_SECONDS: several of its counts read a
    large share of a million-row table (docs/benchmarks.md), and it is a glance, not a ledger."""
    key = f"dashboard:overview:{OVERVIEW_CACHE_VERSION}:{timezone.localdate()}"
    result = cache.get(key)
    if result is None:
        result = overview()
        cache.set(key, result, OVERVIEW_CACHE_SECONDS)
    return result


def _money_today(today: dt.datetime) -> list[dict[str, Any]]:
    """Per currency: what was paid today (gross), what was refunded today, and the difference.
    A refund today of an older order counts today: this is the day's money, not its orders."""
    paid = {
        row["currency"]: row
        for row in Order.objects.filter(paid_at__gte=today)
        .order_by("currency")
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum("total_amount"))
    }
    refunded = {
        row["currency"]: row["amount"]
        for row in Refund.objects.filter(status="succeeded", created_at__gte=today)
        .order_by("currency")
        .values("currency")
        .annotate(amount=Sum("amount"))
    }
    rows = []
    for currency in sorted(set(paid) | set(refunded)):
        gross = paid[currency]["amount"] if currency in paid else 0
        refunds = refunded.get(currency, 0)
        count = paid[currency]["count"] if currency in paid else 0
        rows.append({"currency": currency, "count": count, "gross": gross, "refunds": refunds, "net": gross - refunds})
    return rows


def overview(*, now: dt.datetime | None = None) -> Overview:
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    paid_today = _money_today(today)
    unpaid: QuerySet[Order] = Order.objects.filter(status__in=UNPAID_STATUSES)
    # One hash join rather than a subquery per unpaid order; an order with two payments (a card
    # retried as konbini) counts under both methods.
    awaiting = list(
        Payment.objects.filter(order__status__in=UNPAID_STATUSES)
        .order_by("method")
        .values("method")
        .annotate(count=Count("order_id", distinct=True))
    )
    failed = Order.objects.filter(
        status=OrderStatus.PAYMENT_FAILED, created_at__gte=now - dt.timedelta(days=7)
    ).select_related("customer")
    attention = Order.objects.filter(status=OrderStatus.NEEDS_ATTENTION).select_related("customer")
    return Overview(
        paid_today=paid_today,
        awaiting_by_method=awaiting,
        expiring_soon=unpaid.filter(payment_expires_at__lt=now + dt.timedelta(hours=24)).count(),
        failed_payments=list(failed.order_by("-created_at")[:10]),
        failed_payments_count=failed.count(),
        needs_attention=list(attention.order_by("-updated_at")[:10]),
        needs_attention_count=attention.count(),
        open_disputes=list(
            Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES)
            .select_related("payment__order")
            .order_by("evidence_due_by", "pk")[:20]
        ),
        awaiting_approval=Order.objects.filter(status=OrderStatus.AWAITING_APPROVAL).count(),
        failed_webhooks=InboxEvent.objects.filter(status=InboxStatus.FAILED).count(),
        dead_outbox=OutboxEvent.objects.filter(status=OutboxStatus.DEAD).count(),
        failed_mails=Mail.objects.filter(status__in=[MailStatus.FAILED, MailStatus.UNCONFIRMED]).count(),
        computed_at=now,
        low_stock=sum(
            1 for p in Product.objects.only("stock_on_hand", "stock_reserved") if p.stock_available <= LOW_STOCK_UNITS
        ),
    )
