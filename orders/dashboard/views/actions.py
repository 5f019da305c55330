"""Every action the dashboard offers, through one flow: check the level, validate the form,
show what will happen and ask to confirm, then call the staff service and report its answer.

The form's ``request_key`` makes the same submit run once (orders/services/staff_actions.py);
a refusal (the order's state does not allow it, over the refundable amount) comes back as the
service's message, never as a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from orders.dashboard import forms
from orders.dashboard.views.common import forbidden, is_htmx, safe_next, staff_required
from orders.errors import OrderError
from orders.models import Order, Product
from orders.services import staff_actions as staff
from orders.services.stock_adjustments import product_adjust_stock
from payops.money import Money
from payops.staff.levels import StaffLevel, user_has_level

Run = Callable[[Any, Any, dict[str, Any]], staff.ActionResult]


@dataclass(frozen=True)
class Action:
    level: StaffLevel
    form: Callable[..., forms.ActionForm]
    run: Run
    question: Any  # what the confirm step asks


def _money(order: Order, amount: int | None) -> str:
    return Money(amount, order.currency).format() if amount is not None else str(_("everything refundable"))


ORDER_ACTIONS: dict[str, Action] = {
    "refund": Action(
        StaffLevel.REFUND,
        lambda order, data=None: forms.RefundForm(data, currency=order.currency),
        lambda user, order, d: staff.staff_refund(
            user=user, order_id=order.pk, amount=d["amount"], reason=d["reason"], request_key=d["request_key"]
        ),
        _("Refund %(amount)s of order %(number)s to the customer?"),
    ),
    "cancel": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.CancelForm(data),
        lambda user, order, d: staff.staff_cancel(
            user=user, order_id=order.pk, reason=d["reason"], request_key=d["request_key"]
        ),
        _("Cancel order %(number)s? Its payment is cancelled at Stripe and its stock released."),
    ),
    "approve": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.ApproveForm(data),
        lambda user, order, d: staff.staff_decide(
            user=user, order_id=order.pk, approve=True, note=d["note"], request_key=d["request_key"]
        ),
        _("Approve order %(number)s for fulfilment?"),
    ),
    "reject": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.ApproveForm(data),
        lambda user, order, d: staff.staff_decide(
            user=user, order_id=order.pk, approve=False, note=d["note"], request_key=d["request_key"]
        ),
        _("Reject order %(number)s? The payment is refunded in full and the customer told by mail."),
    ),
    "ship": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.ShipForm(data),
        lambda user, order, d: staff.staff_mark_shipped(
            user=user,
            order_id=order.pk,
            carrier=d["carrier"],
            tracking_number=d["tracking_number"],
            tracking_url=d["tracking_url"],
            request_key=d["request_key"],
        ),
        _("Mark order %(number)s as shipped? The customer is told by mail."),
    ),
    "record_payment": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.RecordPaymentForm(data, currency=order.currency),
        lambda user, order, d: staff.staff_record_outside_payment(
            user=user, order_id=order.pk, amount=d["amount"], reference=d["reference"], request_key=d["request_key"]
        ),
        _("Record %(amount)s received outside Stripe for order %(number)s? The order becomes paid."),
    ),
    "note": Action(
        StaffLevel.OPERATE,
        lambda order, data=None: forms.NoteForm(data),
        lambda user, order, d: staff.staff_note(
            user=user, order_id=order.pk, text=d["text"], request_key=d["request_key"]
        ),
        _("Add this note to order %(number)s?"),
    ),
}

ROW_ACTIONS: dict[str, Action] = {
    "webhook_replay": Action(
        StaffLevel.OPERATE,
        lambda target, data=None: forms.RowsActionForm(data),
        lambda user, target, d: staff.staff_inbox_replay(user=user, inbox_ids=d["ids"], request_key=d["request_key"]),
        _("Process %(count)d webhook event(s) again now?"),
    ),
    "outbox_retry": Action(
        StaffLevel.OPERATE,
        lambda target, data=None: forms.RowsActionForm(data),
        lambda user, target, d: staff.staff_outbox_retry(user=user, outbox_ids=d["ids"], request_key=d["request_key"]),
        _("Publish %(count)d dead event(s) to EventBridge again?"),
    ),
    "mail_resend": Action(
        StaffLevel.OPERATE,
        lambda target, data=None: forms.RowsActionForm(data),
        lambda user, target, d: _resend_all(user, d),
        _("Send %(count)d mail(s) again?"),
    ),
}


def _resend_all(user: Any, data: dict[str, Any]) -> staff.ActionResult:
    # One key per mail, derived from the form's: two mails of one order are two actions.
    results = [
        staff.staff_mail_resend(user=user, mail_id=pk, request_key=_derived_key(data["request_key"], pk))
        for pk in data["ids"]
    ]
    if len(results) == 1:
        return results[0]
    return staff.ActionResult(any(r.done for r in results), str(_("Mails queued again.")))


def _derived_key(request_key: str, pk: int) -> str:
    return hashlib.sha256(f"{request_key}:{pk}".encode()).hexdigest()[:32]


def _perform(
    request: HttpRequest, action: Action, *, target: Any, back: str, question_args: dict[str, Any], name: str
) -> HttpResponse:
    if not user_has_level(request.user, action.level):
        return forbidden(request, action.level)
    form = action.form(target, request.POST)
    context: dict[str, Any] = {"form": form, "name": name, "target": target, "back": back, "action_url": request.path}
    if not form.is_valid():
        return _panel(request, context, status=400)
    data = form.cleaned_data
    if not data.get("confirm"):
        # The question is worded from the validated form (a stock change of "²" never gets here).
        args = {**data, **question_args, "count": len(data.get("ids") or [])}
        if "amount" in data and isinstance(target, Order):
            args["amount"] = _money(target, data["amount"])
        context["question"] = action.question % args
        return _panel(request, context, confirm=True)
    try:
        result = action.run(request.user, target, data)
    except OrderError as exc:
        context["refusal"] = exc.message
        return _panel(request, context, status=409)
    (messages.success if result.done else messages.info)(request, result.message)
    if is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": back})
    return HttpResponseRedirect(back, status=303)


def _panel(request: HttpRequest, context: dict[str, Any], *, status: int = 200, confirm: bool = False) -> HttpResponse:
    context["confirm"] = confirm
    if is_htmx(request):
        # htmx swaps only 2xx answers: the refusal or the form errors show in place.
        return render(request, "dashboard/actions/_panel.html", context)
    return render(request, "dashboard/actions/page.html", context, status=status)


@require_POST
@staff_required()
def order_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    spec = ORDER_ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action")
    order = get_object_or_404(Order, number=number)
    back = reverse("dashboard:order", args=[order.number])
    return _perform(request, spec, target=order, back=back, question_args={"number": order.number}, name=action)


@require_POST
@staff_required()
def rows_action(request: HttpRequest, action: str) -> HttpResponse:
    spec = ROW_ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action")
    back = safe_next(request, reverse("dashboard:overview"))
    return _perform(request, spec, target=None, back=back, question_args={}, name=action)


def _stock_form(product: Product, data: Any = None) -> forms.ActionForm:
    return forms.StockAdjustForm(data)


STOCK_ACTION = Action(
    StaffLevel.OPERATE,
    _stock_form,
    lambda user, product, d: product_adjust_stock(
        user=user, product_id=product.pk, delta=d["delta"], reason=d["reason"], request_key=d["request_key"]
    ),
    _("Change the stock on hand of %(sku)s by %(delta)+d units?"),
)


@require_POST
@staff_required()
def stock_adjust(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=product_id)
    return _perform(
        request,
        STOCK_ACTION,
        target=product,
        back=reverse("dashboard:catalogue"),
        question_args={"sku": product.sku},
        name="stock",
    )
