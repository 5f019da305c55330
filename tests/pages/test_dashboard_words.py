"""The dashboard reads as words (issue 14.8): labelled facts instead of Python dicts, the
workflow's internals folded under one entry, one way of writing yen per page, Japanese on
Japanese pages, a payments panel that knows about refunds, no stale half-made payment."""

from __future__ import annotations

import pytest

from orders.models import Order, Payment
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_paid
from tests.dashboard.conftest import as_user, users  # noqa: F401
from tests.factories import make_order, make_payment
from tests.orders.workflow.conftest import pay, staff  # noqa: F401
from tests.workflow.conftest import clock  # noqa: F401
from tests.workflow.helpers import reload, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(clock, pay):  # noqa: F811
    order, execution = pay(price=60_000, quantity=2)
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "Approval"
    return order


def page(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_the_approval_queue_shows_labelled_facts_in_japanese(as_user, held):  # noqa: F811
    html = page(as_user("operate"), "/dashboard/operations/approvals/", "ja")
    queue = html.split('id="approval-queue"')[1].split("</ol>")[0]
    assert "{'" not in queue and "['" not in queue
    assert "この注文を発送しますか？" in queue
    assert "<dt>理由</dt><dd>金額が確認基準を超えています" in queue
    assert "<dt>金額</dt><dd>120,000円</dd>" in queue and "¥" not in queue


def test_the_order_timeline_folds_the_workflow_and_prints_no_dicts(as_user, held):  # noqa: F811
    html = page(as_user("operate"), f"/dashboard/orders/{held.number}/", "ja")
    timeline = html.split('id="timeline"')[1].split("</section>")[0]
    assert "{'" not in timeline and "['" not in timeline
    assert timeline.count('class="workflow-steps"') == 1  # one folded entry for the run
    assert "<summary>" in timeline and "Approval" in timeline
    assert "waiting · task" not in timeline and "signal times out" not in timeline
    for english in ('<span class="src">event</span>', '<span class="src">outbox</span>'):
        assert english not in timeline


def test_a_japanese_order_page_writes_yen_one_way(as_user):  # noqa: F811
    order = make_order(status="awaiting_payment", locale="ja")
    make_payment(order, method="bank_transfer", status="requires_action", amount_remaining=500)
    html = page(as_user("refund"), f"/dashboard/orders/{order.number}/", "ja")
    main = html.split("<main")[1]
    assert "円" in main and "¥" not in main


def test_the_payments_panel_says_a_full_refund(as_user):  # noqa: F811
    order = make_order(status="refunded")
    make_payment(order, status="succeeded", amount=9_000, amount_received=9_000, amount_refunded=9_000)
    html = page(as_user("view"), f"/dashboard/orders/{order.number}/", "en")
    panel = html.split('id="payments-title"')[1].split("</section>")[0]
    assert "refunded in full" in panel and 'data-role="net">¥0<' in panel
    assert "¥9,000 / ¥9,000" not in panel


def test_a_stale_creating_row_leaves_the_panel_once_paid_outside_stripe(as_user, users):  # noqa: F811
    order = make_order(status="pending_payment")
    make_payment(order, intent_id=None, method="card", status="creating")
    make_payment(order, intent_id=None, method="bank_transfer", status="succeeded", outside_reference="slip-1")
    order_mark_paid(order_id=order.pk, cause=Cause.staff(users["operate"], "form:x"))
    assert Order.objects.get(pk=order.pk).status == "paid"
    html = page(as_user("view"), f"/dashboard/orders/{order.number}/", "en")
    panel = html.split('id="payments-title"')[1].split("</section>")[0]
    assert 'data-payment-status="creating"' not in panel and "slip-1" in panel
    assert Payment.objects.filter(order=order, status="creating").exists()  # history is kept


def test_operations_pages_name_row_statuses_in_japanese(as_user):  # noqa: F811
    from webhooks.models import InboxEvent

    InboxEvent.objects.create(
        provider="stripe", event_id="evt_words", type="charge.refunded", status="processed", payload={}
    )
    html = page(as_user("view"), "/dashboard/operations/webhooks/", "ja")
    assert "処理済み" in html and ">Processed<" not in html
