"""Every action the dashboard offers, through one flow: check the level, validate the form,
show what will happen and ask to confirm, then call the staff layer and word its answer.

The staff layer (orders/services/staff_actions.py, staff_operations.py) checks the level again,
makes the same form sent twice run once (the form's ``request_key``), audits, and answers with
facts; the words for them, in the user's language, are chosen here. A refusal (the order's state
does not allow it, over the refundable amount) comes back as the layer's message, never as a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from orders.dashboard import forms
from orders.dashboard.views.common import forbidden, is_htmx, safe_next, staff_required
from orders.errors import ActionNotAllowed, OrderError
from orders.models import Order, Product
from orders.selectors import STAFF_ACTION_LEVELS, order_refundable
from orders.services import staff_actions as staff
from orders.services import staff_operations as operations
from orders.services.stock_adjustments import StockAdjusted, product_adjust_stock
from payops.money import Money
from payops.staff.levels import user_has_level


@dataclass(frozen=True)
class Report:
    """What the person is told: ``done`` False for a repeat (shown as information, not success)."""

    done: bool
    message: str


Run = Callable[[staff.StaffRequest, Any, dict[str, Any]], Report]


@dataclass(frozen=True)
class Action:
    form: Callable[..., forms.ActionForm]
    run: Run
    question: Any  # what the confirm step asks


def _money(order: Order, amount: int | None) -> str:
    return Money(amount, order.currency).format() if amount is not None else str(_("everything refundable"))


def _repeat() -> Report:
    return Report(False, gettext("This was already done (the form was sent twice)."))


def _refunded(outcome: staff.StaffOutcome) -> Report:
    refund = outcome.refund
    assert refund is not None  # a refund action always answers with its refund
    shown = Money(refund.amount, refund.currency).format()
    if outcome.provider_unreachable:
        return Report(True, gettext("Stripe could not be reached. The refund is reserved and will be sent again."))
    if outcome.repeated:
        return _repeat()
    if refund.status == "failed":
        raise ActionNotAllowed(
            gettext("Stripe refused the refund of %(amount)s: %(reason)s")
            % {"amount": shown, "reason": refund.failure_reason}
        )
    if refund.status == "succeeded":
        return Report(True, gettext("Refunded %(amount)s.") % {"amount": shown})
    return Report(
        True, gettext("Refund of %(amount)s sent to Stripe (%(status)s).") % {"amount": shown, "status": refund.status}
    )


def _said(outcome: staff.StaffOutcome, done: str) -> Report:
    return _repeat() if outcome.repeated else Report(True, done)


def _decided(outcome: staff.StaffOutcome) -> Report:
    if outcome.action == "approve":
        return _said(outcome, gettext("Order approved; fulfilment goes on."))
    return _said(outcome, gettext("Order rejected; the workflow refunds the payment and tells the customer."))


def _payment_recorded(outcome: staff.StaffOutcome) -> Report:
    if not outcome.applied:
        return Report(False, gettext("This payment was already recorded."))
    return Report(True, gettext("Payment recorded; the order is paid."))


ORDER_ACTIONS: dict[str, Action] = {
    "refund": Action(
        lambda order, data=None: forms.RefundForm(data, currency=order.currency, refundable=order_refundable(order)),
        lambda request, order, d: _refunded(
            staff.staff_refund(request, order_id=order.pk, amount=d["amount"], reason=d["reason"])
        ),
        _("Refund %(amount)s of order %(number)s to the customer?"),
    ),
    "cancel": Action(
        lambda order, data=None: forms.CancelForm(data),
        lambda request, order, d: _said(
            staff.staff_cancel(request, order_id=order.pk, reason=d["reason"]),
            gettext("Order cancelled; its stock is released."),
        ),
        _("Cancel order %(number)s? Its payment is cancelled at Stripe and its stock released."),
    ),
    "approve": Action(
        lambda order, data=None: forms.ApproveForm(data),
        lambda request, order, d: _decided(
            staff.staff_decide(request, order_id=order.pk, approve=True, note=d["note"])
        ),
        _("Approve order %(number)s for fulfilment?"),
    ),
    "reject": Action(
        lambda order, data=None: forms.ApproveForm(data),
        lambda request, order, d: _decided(
            staff.staff_decide(request, order_id=order.pk, approve=False, note=d["note"])
        ),
        _("Reject order %(number)s? The payment is refunded in full and the customer told by mail."),
    ),
    "ship": Action(
        lambda order, data=None: forms.ShipForm(data),
        lambda request, order, d: _said(
            staff.staff_mark_shipped(
                request,
                order_id=order.pk,
                carrier=d["carrier"],
                tracking_number=d["tracking_number"],
                tracking_url=d["tracking_url"],
            ),
            gettext("Marked as shipped."),
        ),
        _("Mark order %(number)s as shipped? The customer is told by mail."),
    ),
    "deliver": Action(
        lambda order, data=None: forms.ActionForm(data),
        lambda request, order, d: _said(
            staff.staff_mark_delivered(request, order_id=order.pk), gettext("Marked as delivered.")
        ),
        _("Mark order %(number)s as delivered?"),
    ),
    "record_payment": Action(
        lambda order, data=None: forms.RecordPaymentForm(data, currency=order.currency),
        lambda request, order, d: _payment_recorded(
            staff.staff_record_outside_payment(
                request, order_id=order.pk, amount=d["amount"], currency=order.currency, reference=d["reference"]
            )
        ),
        _("Record %(amount)s received outside Stripe for order %(number)s? The order becomes paid."),
    ),
    "note": Action(
        lambda order, data=None: forms.NoteForm(data),
        lambda request, order, d: _said(
            staff.staff_note(request, order_id=order.pk, text=d["text"]), gettext("Note added.")
        ),
        _("Add this note to order %(number)s?"),
    ),
}


def _replayed(outcome: staff.StaffOutcome) -> Report:
    if outcome.repeated:
        return _repeat()
    if not outcome.count:
        raise ActionNotAllowed(gettext("Choose at least one webhook event."))
    shown = ", ".join(f"{status} {count}" for status, count in sorted(outcome.summary.items()))
    return Report(
        True, gettext("Replayed %(count)d event(s): %(summary)s.") % {"count": outcome.count, "summary": shown}
    )


def _retried(outcome: staff.StaffOutcome) -> Report:
    if outcome.repeated:
        return _repeat()
    if not outcome.count:
        raise ActionNotAllowed(gettext("None of these events is dead; only dead events can be retried."))
    return Report(True, gettext("%(count)d event(s) will be published again.") % {"count": outcome.count})


def _resend_all(request: staff.StaffRequest, data: dict[str, Any]) -> Report:
    # Each mail is its own action: two mails of one order are two audit events, each done once.
    outcomes = [operations.staff_mail_resend(request.for_item(pk), mail_id=pk) for pk in data["ids"]]
    if all(outcome.repeated for outcome in outcomes):
        return _repeat()
    if len(outcomes) == 1:
        return Report(True, gettext("The mail will be sent again."))
    return Report(True, gettext("Mails queued again."))


ROW_ACTIONS: dict[str, Action] = {
    "webhook_replay": Action(
        lambda target, data=None: forms.RowsActionForm(data),
        lambda request, target, d: _replayed(operations.staff_inbox_replay(request, inbox_ids=d["ids"])),
        _("Process %(count)d webhook event(s) again now?"),
    ),
    "outbox_retry": Action(
        lambda target, data=None: forms.RowsActionForm(data),
        lambda request, target, d: _retried(operations.staff_outbox_retry(request, outbox_ids=d["ids"])),
        _("Publish %(count)d dead event(s) to EventBridge again?"),
    ),
    "mail_resend": Action(
        lambda target, data=None: forms.RowsActionForm(data),
        lambda request, target, d: _resend_all(request, d),
        _("Send %(count)d mail(s) again?"),
    ),
}


def _perform(
    request: HttpRequest,
    action: Action,
    *,
    target: Any,
    back: str,
    question_args: dict[str, Any],
    name: str,
    staff_action: str = "",
) -> HttpResponse:
    level = STAFF_ACTION_LEVELS[staff_action or name]
    if not user_has_level(request.user, level):
        return forbidden(request, level)
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
        result = action.run(staff.StaffRequest.from_form(request.user, data["request_key"]), target, data)
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


def _stock_adjusted(adjusted: StockAdjusted) -> Report:
    if adjusted.repeated:
        return _repeat()
    return Report(
        True,
        gettext("%(sku)s: on hand %(before)d → %(after)d.")
        % {"sku": adjusted.sku, "before": adjusted.before, "after": adjusted.after},
    )


STOCK_ACTION = Action(
    _stock_form,
    lambda request, product, d: _stock_adjusted(
        product_adjust_stock(request, product_id=product.pk, delta=d["delta"], reason=d["reason"])
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
        staff_action="stock_adjust",
    )
