"""The orders list (filters, search, sort, pages, counts, CSV) and an order's page."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orders.dashboard import forms
from orders.dashboard.cursor import InvalidCursor
from orders.dashboard.order_detail import order_detail
from orders.dashboard.order_list import method_label, orders_for_export, orders_page, status_counts
from orders.dashboard.views.common import is_htmx, staff_required
from orders.models import Order
from orders.state_machine import OrderStatus
from payops.money import Money


def _page_or_first(filters: Any, cursor: str | None) -> Any:
    try:
        return orders_page(filters, cursor=cursor)
    except InvalidCursor:
        return orders_page(filters, cursor=None)


@require_GET
@staff_required()
def order_list(request: HttpRequest) -> HttpResponse:
    form = forms.OrderFilterForm(request.GET)
    filters = form.filters()
    page = _page_or_first(filters, request.GET.get("cursor"))
    for order in page.rows:
        order.method_label = method_label(order.method)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "statuses": OrderStatus.choices,
    }
    # A filter change or a page link from htmx swaps only the results.
    template = "dashboard/orders/_results.html" if is_htmx(request) else "dashboard/orders/list.html"
    return render(request, template, context)


@require_GET
@staff_required()
def order_counts(request: HttpRequest) -> HttpResponse:
    form = forms.OrderFilterForm(request.GET)
    filters = form.filters()
    counts = status_counts(filters)
    query = request.GET.copy()
    query.pop("status", None)
    query.pop("cursor", None)
    tabs = [(value, label, counts.get(value, 0)) for value, label in OrderStatus.choices]
    context = {"tabs": tabs, "total": sum(counts.values()), "current": filters.status, "query": query.urlencode()}
    return render(request, "dashboard/orders/_counts.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula; an email can start with "=".
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(moment: dt.datetime | None) -> str:
    # The dashboard shows JST (TIME_ZONE); the export says the same times, with their offset.
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _csv_lines(filters: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark: Excel opens UTF-8 without one as Shift_JIS and garbles Japanese.
    yield "\ufeff"
    yield writer.writerow(["number", "created_at", "status", "payment_method", "email", "currency", "total", "paid_at"])
    for order in orders_for_export(filters):
        yield writer.writerow(
            [
                _cell(order.number),
                _local(order.created_at),
                order.status,
                order.method or "",  # type: ignore[attr-defined]
                _cell(order.customer.email),
                order.currency,
                str(Money(order.total_amount, order.currency).major),
                _local(order.paid_at),
            ]
        )


@require_GET
@staff_required()
def order_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = forms.OrderFilterForm(request.GET).filters()
    response = StreamingHttpResponse(_csv_lines(filters), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    return response


def _detail_context(request: HttpRequest, number: str) -> dict[str, Any]:
    try:
        detail = order_detail(number=number, user=request.user)
    except Order.DoesNotExist:
        raise Http404("No such order") from None
    currency = detail.order.currency
    return {
        "detail": detail,
        "order": detail.order,
        "forms": {
            # Paid twice: the refund offered is the surplus.
            "refund": forms.RefundForm(
                currency=currency,
                initial={"amount": detail.surplus.major, "reason": _("Over-payment")} if detail.surplus else {},
            ),
            "cancel": forms.CancelForm(),
            "approve": forms.ApproveForm(),
            "reject": forms.ApproveForm(),
            "ship": forms.ShipForm(),
            "deliver": forms.ActionForm(),
            "record_payment": forms.RecordPaymentForm(
                currency=currency, initial={"amount": Money(detail.order.total_amount, currency).major}
            ),
            "note": forms.NoteForm(),
        },
        "row_key": forms.new_request_key,
    }


@require_GET
@staff_required()
def order_page(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "dashboard/orders/detail.html", _detail_context(request, number))


@require_GET
@staff_required()
def order_live(request: HttpRequest, number: str) -> HttpResponse:
    """The parts of an order's page that change, fetched again when a live update arrives."""
    return render(request, "dashboard/orders/_live_parts.html", _detail_context(request, number))
