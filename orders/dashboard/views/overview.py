"""The overview (today's sales, what waits for payment, what needs a person) and the catalogue."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orders.dashboard import forms
from orders.dashboard.order_list import method_label
from orders.dashboard.selectors import LOW_STOCK_UNITS, cached_overview, catalogue
from orders.dashboard.views.common import staff_required
from orders.services.stock_adjustments import parse_adjustment, stock_adjustments


@require_GET
@staff_required()
def overview_page(request: HttpRequest) -> HttpResponse:
    summary = cached_overview()
    awaiting = [{**row, "label": method_label(row["method"])} for row in summary.awaiting_by_method]
    context = {"o": summary, "awaiting_by_method": awaiting, "currency": settings.PAYOPS_CURRENCY}
    return render(request, "dashboard/overview.html", context)


@require_GET
@staff_required()
def catalogue_page(request: HttpRequest) -> HttpResponse:
    low_only = request.GET.get("low") == "1"
    log = [(entry, parse_adjustment(entry)) for entry in stock_adjustments()[:30]]
    context = {
        "products": catalogue(low_only=low_only),
        "low_only": low_only,
        "low_units": LOW_STOCK_UNITS,
        "log": log,
        "row_key": forms.new_request_key,
    }
    return render(request, "dashboard/catalogue.html", context)
