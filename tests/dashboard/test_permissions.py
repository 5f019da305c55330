"""Who may see and do what: every page and every action, for anonymous visitors, staff without
a level, and each of the three levels. Pages need "view"; actions need "operate" (refunds:
"refund"); the services check again, so an edge that forgot would still be refused."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.models import OrderEvent, Refund
from orders.services import staff_actions, staff_operations
from orders.services.stock_adjustments import product_adjust_stock
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from tests.dashboard.conftest import key
from tests.factories import make_order, make_product
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

LEVELS = ["anonymous", "no_level", "view", "operate", "refund"]


@pytest.fixture
def rows(paid_order, unpaid_order):
    """One of everything a page or an action can be about."""
    approval = make_order(status="awaiting_approval", email="held@example.com")
    fulfilling = make_order(status="fulfilling", email="ship@example.com")
    transfer = make_order(status="awaiting_payment", email="transfer@example.com")
    mail = Mail.objects.create(
        idempotency_key="m1",
        template="shipped",
        recipient="buyer@example.com",
        language="ja",
        reference=paid_order.number,
        status="failed",
        last_error="rejected",
    )
    outbox = OutboxEvent.objects.create(
        source="payops.orders",
        detail_type="order.paid",
        detail={},
        aggregate=paid_order.number,
        sequence=1,
        status="dead",
        last_error="boom",
    )
    inbox = InboxEvent.objects.create(
        provider="stripe",
        event_id="evt_perm_1",
        type="payment_intent.succeeded",
        status="failed",
        payload={
            "id": "evt_perm_1",
            "type": "payment_intent.succeeded",
            "created": 1,
            "data": {"object": {"object": "payment_intent", "id": "pi_unknown_x"}},
        },
    )
    return {
        "paid": paid_order,
        "unpaid": unpaid_order,
        "approval": approval,
        "fulfilling": fulfilling,
        "transfer": transfer,
        "mail": mail,
        "outbox": outbox,
        "inbox": inbox,
        "product": make_product(sku="PERM-1"),
    }


def pages(r):
    paid = r["paid"].number
    return [
        "/dashboard/",
        "/dashboard/orders/",
        "/dashboard/orders/?status=paid&q=buyer@example.com",
        "/dashboard/orders/counts/",
        "/dashboard/orders/export.csv",
        f"/dashboard/orders/{paid}/",
        f"/dashboard/orders/{paid}/live/",
        "/dashboard/operations/webhooks/",
        f"/dashboard/operations/webhooks/{r['inbox'].pk}/",
        "/dashboard/operations/outbox/?status=dead",
        "/dashboard/operations/mail/",
        "/dashboard/operations/approvals/",
        "/dashboard/catalogue/",
    ]


@pytest.mark.parametrize("level", LEVELS)
def test_every_page_needs_the_view_level(as_user, rows, level):
    client = as_user(level)
    for url in pages(rows):
        response = client.get(url)
        if level == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
        elif level == "no_level":
            assert response.status_code == 403, url
            assert "staff level" in response.content.decode()
        else:
            assert response.status_code == 200, url


def actions(r):
    """(name, url, form data, level needed, how to tell it happened)."""
    o = lambda name: f"/dashboard/orders/{r[name].number}/actions"  # noqa: E731
    return [
        (
            "refund",
            f"{o('paid')}/refund/",
            {"amount": "3000", "reason": "damaged"},
            "refund",
            lambda: Refund.objects.filter(payment__order=r["paid"]).exists(),
        ),
        (
            "cancel",
            f"{o('unpaid')}/cancel/",
            {"reason": "asked"},
            "operate",
            lambda: r["unpaid"].events.filter(type="order.cancelled").exists(),
        ),
        (
            "approve",
            f"{o('approval')}/approve/",
            {"note": "ok"},
            "operate",
            lambda: r["approval"].events.filter(type="order.fulfilling").exists(),
        ),
        (
            "ship",
            f"{o('fulfilling')}/ship/",
            {"carrier": "yamato", "tracking_number": "1234"},
            "operate",
            lambda: r["fulfilling"].events.filter(type="order.shipped").exists(),
        ),
        (
            "record_payment",
            f"{o('transfer')}/record_payment/",
            {"amount": "1500", "reference": "slip-1"},
            "operate",
            lambda: r["transfer"].events.filter(type="order.paid").exists(),
        ),
        (
            "note",
            f"{o('paid')}/note/",
            {"text": "called the customer"},
            "operate",
            lambda: r["paid"].events.filter(type="staff.note").exists(),
        ),
        (
            "mail_resend",
            "/dashboard/operations/mail_resend/",
            {"ids": r["mail"].pk},
            "operate",
            lambda: Mail.objects.get(pk=r["mail"].pk).status == "pending",
        ),
        (
            "outbox_retry",
            "/dashboard/operations/outbox_retry/",
            {"ids": r["outbox"].pk},
            "operate",
            lambda: OutboxEvent.objects.get(pk=r["outbox"].pk).status != "dead",
        ),
        (
            "webhook_replay",
            "/dashboard/operations/webhook_replay/",
            {"ids": r["inbox"].pk},
            "operate",
            lambda: InboxEvent.objects.get(pk=r["inbox"].pk).attempts > 0,
        ),
        (
            "stock",
            f"/dashboard/catalogue/{r['product'].pk}/stock/",
            {"delta": "3", "reason": "recount"},
            "operate",
            lambda: r["product"].__class__.objects.get(pk=r["product"].pk).stock_on_hand == 13,
        ),
    ]


ALLOWED = {"operate": {"operate", "refund"}, "refund": {"refund"}}


@pytest.mark.parametrize("level", LEVELS)
def test_every_action_needs_its_level_and_does_nothing_otherwise(as_user, rows, level, stripe):
    client = as_user(level)
    for name, url, data, needed, happened in actions(rows):
        events_before = OrderEvent.objects.count()
        response = client.post(url, {**data, "request_key": key(), "confirm": "on"})
        if level == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/login/"), name
        elif level in ALLOWED[needed]:
            assert response.status_code == 303, (name, response.status_code, response.content[:400])
            assert happened(), name
            continue
        else:
            assert response.status_code == 403, (name, level, response.status_code)
        assert not happened(), (name, level)
        assert OrderEvent.objects.count() == events_before, (name, level)


def form(user):
    return staff_actions.StaffRequest.from_form(user, key())


@pytest.mark.parametrize(
    "call",
    [
        lambda u, r: staff_actions.staff_refund(form(u), order_id=r["paid"].pk, amount=100, reason=""),
        lambda u, r: staff_actions.staff_cancel(form(u), order_id=r["unpaid"].pk, reason=""),
        lambda u, r: staff_actions.staff_decide(form(u), order_id=r["approval"].pk, approve=True, note=""),
        lambda u, r: staff_actions.staff_note(form(u), order_id=r["paid"].pk, text="x"),
        lambda u, r: staff_operations.staff_mail_resend(form(u), mail_id=r["mail"].pk),
        lambda u, r: staff_operations.staff_outbox_retry(form(u), outbox_ids=[r["outbox"].pk]),
        lambda u, r: staff_operations.staff_inbox_replay(form(u), inbox_ids=[r["inbox"].pk]),
        lambda u, r: product_adjust_stock(form(u), product_id=r["product"].pk, delta=1, reason="x"),
    ],
)
def test_the_services_refuse_a_user_without_the_level(users, rows, call):
    for name in ("anonymous", "no_level", "view"):
        with pytest.raises(staff_actions.StaffLevelMissing):
            call(users[name], rows)
    with pytest.raises(staff_actions.StaffLevelMissing):
        staff_actions.staff_refund(form(users["operate"]), order_id=rows["paid"].pk, amount=100, reason="")


def test_every_form_posts_with_a_csrf_token(as_user, rows, stripe):
    client = as_user("refund")
    for url in [
        f"/dashboard/orders/{rows['unpaid'].number}/",
        f"/dashboard/orders/{rows['paid'].number}/",
        "/dashboard/operations/webhooks/",
        "/dashboard/operations/outbox/",
        "/dashboard/operations/mail/",
        "/dashboard/catalogue/",
    ]:
        html = client.get(url).content.decode()
        forms = html.split("<form")[1:]
        posting = [f for f in forms if 'method="post"' in f.split(">")[0]]
        assert posting, url
        for form in posting:
            assert 'name="csrfmiddlewaretoken"' in form.split("</form>")[0], (url, form[:200])


def test_a_post_without_the_csrf_token_is_refused(users, rows):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["refund"])
    for name, url, data, _, happened in actions(rows):
        response = client.post(url, {**data, "request_key": key(), "confirm": "on"})
        assert response.status_code == 403, name
        assert not happened(), name


def test_sign_in_and_its_attempts_are_limited(client, django_user_model, monkeypatch):
    monkeypatch.setattr("payops.ratelimit.time.time", lambda: 1_800_000_000.0)  # one window throughout
    django_user_model.objects.create_user("desk", password="right-horse-battery", is_staff=True)
    page = client.get("/dashboard/")
    assert page.status_code == 302 and page["Location"] == "/login/?next=/dashboard/"
    for _ in range(9):
        assert client.post("/login/", {"username": "desk", "password": "wrong"}).status_code == 200
    signed_in = client.post("/login/", {"username": "desk", "password": "right-horse-battery", "next": "/dashboard/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/dashboard/"
    client.logout()
    refused = client.post("/login/", {"username": "desk", "password": "right-horse-battery"})
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
