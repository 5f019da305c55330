"""Operations pages: the webhook inbox, the outbox, the mail log and the approval queue."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from orders.dashboard import forms
from orders.dashboard.cursor import InvalidCursor, Page
from orders.dashboard.selectors import approval_queue, inbox_page, inbox_types, mail_page, outbox_page
from orders.dashboard.views.common import is_htmx, staff_required
from orders.models import Order
from orders.selectors import STAFF_ACTION_LEVELS
from payops.staff.levels import user_has_level
from payops.workflow.selectors import executions_awaiting_approval
from webhooks.models import InboxEvent


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


def _cursor(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


def _page(load: Callable[..., Page], request: HttpRequest, **filters: str) -> Page:
    try:
        return load(cursor=_cursor(request), **filters)
    except InvalidCursor:
        return load(cursor=None, **filters)


@require_GET
@staff_required()
def inbox(request: HttpRequest) -> HttpResponse:
    form = forms.InboxFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    filters = {key: data.get(key) or "" for key in ("status", "type", "provider")}
    page = _page(inbox_page, request, **filters)
    numbers = dict(Order.objects.filter(pk__in={row.order_id for row in page.rows}).values_list("pk", "number"))
    for row in page.rows:
        row.order_number = numbers.get(row.order_id, "")
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "types": inbox_types(),
        "row_key": forms.new_request_key,
        "partial": is_htmx(request),
    }
    return render(request, "dashboard/operations/inbox.html", context)


@require_GET
@staff_required()
def inbox_row(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(InboxEvent, pk=pk)
    order = Order.objects.filter(pk=row.order_id).only("number").first() if row.order_id is not None else None
    context = {
        "row": row,
        "order": order,
        "payload": json.dumps(row.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "row_key": forms.new_request_key,
    }
    return render(request, "dashboard/operations/inbox_row.html", context)


@require_GET
@staff_required()
def outbox(request: HttpRequest) -> HttpResponse:
    form = forms.OutboxFilterForm(request.GET)
    form.is_valid()
    status = getattr(form, "cleaned_data", {}).get("status") or ""
    page = _page(outbox_page, request, status=status)
    context = {"form": form, "page": page, "query": _query(request), "row_key": forms.new_request_key}
    return render(request, "dashboard/operations/outbox.html", context)


@require_GET
@staff_required()
def mail_log(request: HttpRequest) -> HttpResponse:
    form = forms.MailFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    page = _page(mail_page, request, status=data.get("status") or "", query=data.get("q") or "")
    context = {"form": form, "page": page, "query": _query(request), "row_key": forms.new_request_key}
    return render(request, "dashboard/operations/mail.html", context)


@require_GET
@staff_required()
def approvals(request: HttpRequest) -> HttpResponse:
    """Workflow executions waiting for a person, the longest-waiting first, with the order's
    facts beside them; then orders held for approval that no workflow waits on."""
    pending = executions_awaiting_approval()
    orders = dict(
        Order.objects.filter(pk__in=[p.order_id for p in pending if p.order_id]).select_related("customer").in_bulk()
    )
    queue = [(item, orders.get(item.order_id or 0)) for item in pending]
    held = _page(approval_queue, request)
    in_queue = {item.order_id for item in pending}
    held_rows = [order for order in held.rows if order.pk not in in_queue]
    context = {
        "queue": queue,
        "held": held,
        "held_rows": held_rows,
        "may_reject": user_has_level(request.user, STAFF_ACTION_LEVELS["reject"]),
        "query": _query(request),
        "row_key": forms.new_request_key,
    }
    return render(request, "dashboard/operations/approvals.html", context)
