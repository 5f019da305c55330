"""Reads behind an order's page: one timeline merged from everything that touched the order,
what the order is waiting for, and which actions its state allows.

A constant number of queries per order (about a dozen), each by an indexed key: the order's
pk, its number (outbox aggregate, mail reference), its webhook event ids and PaymentIntent ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from orders.coverage import order_coverage
from orders.dashboard import labels
from orders.dashboard.order_list import method_label
from orders.models import Order, OrderEvent, Payment, Refund
from orders.models.orders import EventCause
from orders.models.payments import PAYMENT_CREATING
from orders.presentation import event_label
from orders.selectors import allowed_staff_actions, refundable_amount, refundable_payment
from orders.state_machine import UNPAID_STATUSES, OrderStatus
from payops.mail.models import Mail, MailStatus
from payops.money import Money
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.workflow.selectors import Timeline, execution_timeline, executions_for_order
from webhooks.models import InboxEvent, InboxStatus

STAFF_EVENT_LABELS = {
    "staff.note": gettext_lazy("Note"),
    "staff.mail_resent": gettext_lazy("Mail sent again by staff"),
    "staff.webhook_replayed": gettext_lazy("Webhook replayed by staff"),
    "staff.outbox_retried": gettext_lazy("Event publishing retried by staff"),
    "staff.refund_requested": gettext_lazy("Refund asked for by staff"),
    "staff.order_cancelled": gettext_lazy("Cancelled by staff"),
    "staff.approval_decided": gettext_lazy("Approval decided by staff"),
    "staff.shipment_recorded": gettext_lazy("Shipment entered by staff"),
    "staff.delivery_confirmed": gettext_lazy("Delivery confirmed by staff"),
    "staff.payment_recorded": gettext_lazy("Payment outside Stripe recorded by staff"),
    "refund.requested": gettext_lazy("Refund requested"),
    "fulfilment.requested": gettext_lazy("Fulfilment requested from the warehouse"),
    "fulfilment.needs_attention": gettext_lazy("Fulfilment needs a person"),
    "stock.returned": gettext_lazy("Stock returned"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    source: str  # event, payment, refund, dispute, webhook, outbox, mail
    title: str
    detail: str = ""
    tone: str = ""  # "", ok, warn, bad
    actor: str = ""
    row: Any = None  # the inbox / outbox / mail row, for its action button
    facts: tuple[tuple[str, str], ...] = ()  # an event's data as labelled values
    children: tuple[TimelineEntry, ...] = ()  # a workflow's steps, shown folded under it


@dataclass(frozen=True)
class Waiting:
    title: str
    detail: str = ""
    until: dt.datetime | None = None
    tone: str = "warn"
    until_label: str = ""  # what happens at ``until``; the page says "until" when empty


@dataclass
class OrderDetail:
    order: Order
    payments: list[Payment]
    refunds: list[Refund]
    timeline: list[TimelineEntry]
    waiting: list[Waiting]
    actions: set[str] = field(default_factory=set)
    refundable: Money | None = None
    refund_payment: Payment | None = None
    # Money held beyond the total (paid twice): what to refund (orders/coverage.py).
    surplus: Money | None = None
    inbox: list[InboxEvent] = field(default_factory=list)
    outbox: list[OutboxEvent] = field(default_factory=list)
    mails: list[Mail] = field(default_factory=list)
    workflows: list[Timeline] = field(default_factory=list)

    @property
    def panel_payments(self) -> list[Payment]:
        """The payments panel: a payment still "being set up" once the order is no longer waiting
        for money (paid outside Stripe, expired, cancelled) never will be; it stays on the timeline."""
        if self.order.status in UNPAID_STATUSES:
            return self.payments
        return [p for p in self.payments if p.status != PAYMENT_CREATING]

    @property
    def approval_waiting(self) -> bool:
        return any(
            step.kind == "approval" and step.status == "waiting"
            for workflow in self.workflows
            if workflow.status == "running"
            for step in workflow.steps
        )


def order_detail(*, number: str, user: Any) -> OrderDetail:
    order = (
        Order.objects.select_related("customer")
        .prefetch_related(
            "lines__product",
            "shipments",
            Prefetch("events", queryset=OrderEvent.objects.select_related("staff_user").order_by("sequence")),
            Prefetch(
                "payments",
                queryset=Payment.objects.order_by("-pk").prefetch_related(
                    Prefetch("refunds", queryset=Refund.objects.select_related("requested_by")), "disputes"
                ),
            ),
        )
        .get(number=number)
    )
    events = list(order.events.all())
    payments = list(order.payments.all())
    for payment in payments:
        payment.method_label = method_label(payment.method)  # type: ignore[attr-defined]
    refunds = sorted((r for p in payments for r in p.refunds.all()), key=lambda r: r.pk)
    inbox = _inbox_rows(order)
    outbox = list(OutboxEvent.objects.filter(aggregate=order.number).order_by("sequence", "pk"))
    mails = list(Mail.objects.filter(reference=order.number).order_by("pk"))
    workflows = [execution_timeline(execution_id=e.pk) for e in executions_for_order(order_id=order.pk)]
    refund_payment = refundable_payment(order)
    refundable = Money(refundable_amount(refund_payment), refund_payment.currency) if refund_payment else None
    coverage = order_coverage(order, payments)
    surplus = Money(coverage.surplus, coverage.currency) if coverage.surplus else None
    detail = OrderDetail(
        order=order,
        payments=payments,
        refunds=refunds,
        timeline=_timeline(events, payments, refunds, inbox, outbox, mails) + _workflow_entries(workflows),
        waiting=_waiting(order, payments, refunds, inbox, outbox, mails) + _workflow_waiting(workflows),
        refundable=refundable,
        refund_payment=refund_payment,
        surplus=surplus,
        inbox=inbox,
        outbox=outbox,
        mails=mails,
        workflows=workflows,
    )
    if surplus is not None:
        detail.waiting.insert(
            0,
            Waiting(
                _("A person: refund the over-payment"),
                _("The order was paid twice: %(surplus)s more than its total arrived. Refund it below.")
                % {"surplus": surplus.format(get_language() or "en")},
                tone="bad",
            ),
        )
    if order.status == OrderStatus.AWAITING_APPROVAL and not detail.approval_waiting:
        detail.waiting.append(Waiting(_("Approval by staff"), _("Approve the order below.")))
    detail.timeline.sort(key=lambda e: (e.at, -_SOURCE_ORDER[e.source]), reverse=True)
    detail.actions = allowed_actions(detail, user)
    return detail


def _inbox_rows(order: Order) -> list[InboxEvent]:
    """Rows whose processing touched this order, and failed rows about it (the inbox names the
    order on each row: webhooks/services/processing.py)."""
    rows = InboxEvent.objects.filter(order_id=order.pk).defer("last_traceback").order_by("received_at", "pk")
    return list(rows[:200])


def _actor(event: OrderEvent) -> str:
    if event.staff_user is not None:
        return event.staff_user.get_username()
    return str(EventCause(event.cause).label) if event.cause in EventCause.values else event.cause


def _event_detail(event: OrderEvent) -> str:
    data = event.data or {}
    return str(data.get("text", ""))[:2000] if event.type == "staff.note" else ""


def _money(amount: int, currency: str) -> str:
    """In the page's language: 1,500円 on Japanese pages, ¥1,500 on English ones (never mixed)."""
    return Money(amount, currency).format(translation.get_language() or "en")


def _tone_for_status(status: str) -> str:
    if status in ("succeeded", "processed", "published", "sent", "ok"):
        return "ok"
    if status in ("failed", "dead", "canceled", "unconfirmed", "lost"):
        return "bad"
    return "warn" if status in ("requested", "pending", "received", "processing", "needs_response") else ""


def _timeline(
    events: list[OrderEvent],
    payments: list[Payment],
    refunds: list[Refund],
    inbox: list[InboxEvent],
    outbox: list[OutboxEvent],
    mails: list[Mail],
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=e.created_at,
            source="event",
            title=str(STAFF_EVENT_LABELS.get(e.type) or event_label(e.type)),
            detail=_event_detail(e),
            facts=tuple(labels.labelled_facts(e.data or {}, currency=e.order.currency))
            if e.type != "staff.note"
            else (),
            tone="bad" if e.to_status in ("payment_failed", "needs_attention", "disputed") else "",
            actor=_actor(e),
        )
        for e in events
    ]
    for p in payments:
        amount = _money(p.amount, p.currency)
        entries.append(
            TimelineEntry(
                p.created_at,
                "payment",
                _("Payment %(method)s %(amount)s") % {"method": method_label(p.method), "amount": amount},
                f"{p.intent_id or p.outside_reference} · {p.status}"
                + (f" · {p.failure_message}" if p.failure_message else ""),
                _tone_for_status(p.status),
            )
        )
        for d in p.disputes.all():
            entries.append(
                TimelineEntry(
                    d.created_at,
                    "dispute",
                    _("Dispute %(id)s") % {"id": d.dispute_id},
                    f"{d.reason} · {d.status}",
                    "bad" if d.is_open else "",
                )
            )
    for r in refunds:
        who = r.requested_by.get_username() if r.requested_by_id and r.requested_by else ""
        entries.append(
            TimelineEntry(
                r.created_at,
                "refund",
                _("Refund %(amount)s") % {"amount": _money(r.amount, r.currency)},
                " · ".join(x for x in (r.status, r.reason, r.failure_reason) if x),
                _tone_for_status(r.status),
                who,
            )
        )
    for row in inbox:
        entries.append(
            TimelineEntry(
                row.received_at,
                "webhook",
                _("Webhook %(type)s") % {"type": row.type},
                " · ".join(x for x in (row.status, row.outcome, row.last_error[:200]) if x),
                _tone_for_status(row.status),
                row.provider,
                row,
            )
        )
    for o in outbox:
        entries.append(
            TimelineEntry(
                o.created_at,
                "outbox",
                _("Published %(type)s") % {"type": o.detail_type},
                " · ".join(x for x in (o.status, o.last_error[:200]) if x),
                _tone_for_status(o.status),
                "EventBridge",
                o,
            )
        )
    for m in mails:
        entries.append(
            TimelineEntry(
                m.created_at,
                "mail",
                _("Mail “%(template)s” to %(to)s") % {"template": m.get_template_display(), "to": m.recipient},
                " · ".join(x for x in (m.status, m.last_error[:200]) if x),
                _tone_for_status(m.status),
                "SES",
                m,
            )
        )
    return entries


# Newest first; within the same instant, the order the facts were written in.
_SOURCE_ORDER = {
    "event": 0,
    "payment": 1,
    "refund": 2,
    "dispute": 3,
    "webhook": 4,
    "outbox": 5,
    "mail": 6,
    "workflow": 7,
}


def _workflow_entries(workflows: list[Timeline]) -> list[TimelineEntry]:
    """One folded entry per workflow run (its steps inside): the merchant reads the business
    events first and opens the workflow's internals when they need them."""
    entries = []
    for workflow in workflows:
        steps = []
        for step in workflow.steps:
            at = step.started_at or step.finished_at or workflow.started_at
            kind = labels.step_kind(step.kind)
            facts = [labels.step_status(step.status), f"{kind} #{step.attempt}" if step.attempt > 1 else kind]
            if step.decision:
                facts.append(f"{labels.CODE_LABELS.get(step.decision, step.decision)} {step.decision_note}".strip())
            if step.error:
                facts.append(f"{step.error}: {step.cause[:200]}")
            if step.due_at:
                facts.append(f"{labels.due_label(step.due_label)} {timezone.localtime(step.due_at):%Y-%m-%d %H:%M}")
            tone = _tone_for_status(step.status) or ("warn" if step.status in ("waiting", "scheduled") else "")
            steps.append(
                TimelineEntry(
                    at,
                    "workflow",
                    step.state,
                    " · ".join(str(f) for f in facts),
                    tone,
                    step.decided_by,
                    facts=tuple(labels.labelled_facts(step.output)) if isinstance(step.output, dict) else (),
                )
            )
        current = workflow.steps[-1] if workflow.steps else None
        title = ngettext(
            "Workflow %(workflow)s: %(count)d step", "Workflow %(workflow)s: %(count)d steps", len(steps)
        ) % {
            "workflow": workflow.workflow,
            "count": len(steps),
        }
        summary = labels.step_status(workflow.status)
        if current is not None and workflow.status == "running":
            summary = f"{summary} · {current.state}"
        tone = "bad" if workflow.status == "failed" else ("warn" if workflow.status == "running" else "ok")
        at = workflow.started_at or (steps[0].at if steps else timezone.now())
        entries.append(TimelineEntry(at, "workflow", title, summary, tone, "", children=tuple(reversed(steps))))
    return entries


def _workflow_waiting(workflows: list[Timeline]) -> list[Waiting]:
    waiting = []
    for workflow in workflows:
        if workflow.status != "running":
            continue
        for step in workflow.steps:
            if step.status not in ("waiting", "scheduled", "running"):
                continue
            if step.kind == "approval":
                waiting.append(Waiting(_("Approval by staff"), _("Approve or reject the order below."), step.due_at))
            else:
                waiting.append(
                    Waiting(
                        _("Workflow step %(state)s") % {"state": step.state},
                        until=step.due_at,
                        tone="",
                        until_label=labels.due_label(step.due_label),
                    )
                )
        if workflow.paused_at:
            waiting.append(Waiting(_("Workflow paused"), workflow.pause_reason, tone="bad"))
    return waiting


def _waiting(
    order: Order,
    payments: list[Payment],
    refunds: list[Refund],
    inbox: list[InboxEvent],
    outbox: list[OutboxEvent],
    mails: list[Mail],
) -> list[Waiting]:
    waiting: list[Waiting] = []
    payment = payments[0] if payments else None
    if order.status in UNPAID_STATUSES:
        method = method_label(payment.method) if payment else ""
        detail = ""
        if payment and payment.amount_remaining:
            detail = _("%(amount)s still to arrive") % {"amount": _money(payment.amount_remaining, payment.currency)}
        waiting.append(Waiting(_("Payment (%(method)s)") % {"method": method}, detail, order.payment_expires_at))
    if any(p.review_open for p in payments):
        waiting.append(Waiting(_("Stripe review of the payment"), _("Fulfilment waits until the review closes.")))
    physical = any(not line.product.is_digital for line in order.lines.all())
    if order.status in (OrderStatus.PAID, OrderStatus.FULFILLING) and physical and not order.shipments.all():
        waiting.append(Waiting(_("Shipment"), "", tone=""))
    for p in payments:
        for d in p.disputes.all():
            if d.is_open:
                waiting.append(Waiting(_("Dispute response"), d.reason, d.evidence_due_by, "bad"))
    for r in refunds:
        if r.status in ("requested", "pending", "requires_action"):
            waiting.append(Waiting(_("Refund at Stripe"), _money(r.amount, r.currency)))
    problems = [
        (len([r for r in inbox if r.status == InboxStatus.FAILED]), _("webhook event(s) failed")),
        (len([o for o in outbox if o.status == OutboxStatus.DEAD]), _("event(s) could not be published")),
        (
            len([m for m in mails if m.status in (MailStatus.FAILED, MailStatus.UNCONFIRMED)]),
            _("mail(s) not delivered"),
        ),
    ]
    for count, text in problems:
        if count:
            waiting.append(Waiting(_("A person: %(count)d %(what)s") % {"count": count, "what": text}, tone="bad"))
    if order.status == OrderStatus.NEEDS_ATTENTION:
        waiting.append(Waiting(_("A person: the order needs attention"), tone="bad"))
    return waiting


def allowed_actions(detail: OrderDetail, user: Any) -> set[str]:
    """The actions to offer: the user's level allows them and the order's state does
    (orders/selectors.py decides, for the API too). The staff layer checks both again."""
    return set(allowed_staff_actions(detail.order, user=user))
