"""The simulator's human pages: dashboard, 3-D Secure bank page, hosted voucher and transfer pages.

They stand in for what Stripe hosts (the bank's challenge page, the konbini voucher, the bank
transfer instructions) and for what happens outside Stripe (the shopper paying at the store or
wiring money). Every page says TEST MODE; every action calls one service.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payops.simulator.api_dispatch import ensure_simulator_enabled
from payops.simulator.delivery import delivery_mode, wake_delivery
from payops.simulator.errors import StripeApiError
from payops.simulator.models import SimPaymentIntent
from payops.simulator.selectors import dashboard_intents, format_amount, intent_view, recent_events
from payops.simulator.services import bank_transfers, konbini, payment_intents
from payops.simulator.services.events import redeliver_event
from payops.simulator.services.transitions import get_intent

View = Callable[..., HttpResponse]


def simulator_page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ensure_simulator_enabled()
        return view(request, *args, **kwargs)

    return wrapper


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the button was on (``next``), else the dashboard."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("simulator:dashboard")


def _run_action(request: HttpRequest, action: Callable[[], Any], success: str) -> HttpResponseRedirect:
    try:
        action()
    except StripeApiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return _back(request)


def _intent_or_404(intent_id: str) -> SimPaymentIntent:
    try:
        return get_intent(intent_id)
    except StripeApiError as exc:
        raise Http404(exc.message) from exc


@simulator_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    # Events left over from an earlier run (or a crashed deliverer) go out when someone looks.
    wake_delivery()
    context = {
        "intents": dashboard_intents(),
        "events": recent_events(),
        "delivery_mode": delivery_mode(),
    }
    return render(request, "simulator/dashboard.html", context)


@simulator_page
@require_http_methods(["GET", "POST"])
def three_d_secure(request: HttpRequest, intent_id: str) -> HttpResponse:
    intent = _intent_or_404(intent_id)
    if request.method == "POST":
        approve = request.POST.get("outcome") == "complete"
        try:
            if approve:
                intent = payment_intents.complete_authentication(intent_id=intent_id)
            else:
                intent = payment_intents.fail_authentication(intent_id=intent_id)
        except StripeApiError as exc:
            context = {"view": intent_view(intent), "error": exc.message}
            return render(request, "simulator/three_d_secure.html", context, status=409)
        target = payment_intents.return_url_after_authentication(intent)
        if target:
            return HttpResponseRedirect(target)
        outcome = "succeeded" if approve else "failed"
        return render(request, "simulator/three_d_secure.html", {"view": intent_view(intent), "outcome": outcome})
    return render(request, "simulator/three_d_secure.html", {"view": intent_view(intent)})


@simulator_page
@require_GET
def voucher(request: HttpRequest, intent_id: str) -> HttpResponse:
    view = intent_view(_intent_or_404(intent_id))
    return render(request, "simulator/voucher.html", {"view": view})


@simulator_page
@require_POST
def konbini_pay(request: HttpRequest, intent_id: str) -> HttpResponse:
    return _run_action(
        request, lambda: konbini.konbini_pay_at_store(intent_id=intent_id), f"{intent_id}: paid at the store."
    )


@simulator_page
@require_POST
def konbini_expire(request: HttpRequest, intent_id: str) -> HttpResponse:
    return _run_action(
        request, lambda: konbini.konbini_expire_voucher(intent_id=intent_id), f"{intent_id}: voucher expired."
    )


@simulator_page
@require_GET
def transfer_instructions(request: HttpRequest, intent_id: str) -> HttpResponse:
    view = intent_view(_intent_or_404(intent_id))
    return render(request, "simulator/transfer_instructions.html", {"view": view})


@simulator_page
@require_POST
def transfer_fund(request: HttpRequest, intent_id: str) -> HttpResponse:
    intent = _intent_or_404(intent_id)
    if request.POST.get("full"):
        amount = intent.amount_remaining
    else:
        try:
            amount = int(request.POST.get("amount", ""))
        except ValueError:
            messages.error(request, "Enter the amount to transfer as a whole number of minor units (yen).")
            return _back(request)
    if intent.customer is None:
        messages.error(request, f"{intent_id} has no customer to fund.")
        return _back(request)
    customer_id = intent.customer.stripe_id
    return _run_action(
        request,
        lambda: bank_transfers.fund_cash_balance(
            customer_id=customer_id,
            amount=amount,
            currency=intent.currency,
            reference=intent.bank_transfer_reference,
        ),
        f"{intent_id}: received a transfer of {format_amount(amount, intent.currency)}.",
    )


@simulator_page
@require_POST
def event_redeliver(request: HttpRequest, event_id: str) -> HttpResponse:
    return _run_action(request, lambda: redeliver_event(event_id=event_id), f"{event_id} queued for delivery again.")
