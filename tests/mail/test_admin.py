"""The mail admin: status and errors, sending again, and the SES outbox as moto saw it."""

import pytest

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment
from payops.aws.infra import create_demo_secrets
from payops.mail.models import Mail, MailStatus
from payops.mail.services import mail_send
from tests.factories import make_order, make_payment
from tests.fakes.stripe_api import konbini_next_action

pytestmark = pytest.mark.django_db


def order_received_mail(locale="en"):
    order = make_order(locale=locale, email="shopper@example.com")
    make_payment(order, method="konbini", status="requires_action", next_action=konbini_next_action(1_800_000_000))
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.webhook("evt_a"))
    return order, Mail.objects.get()


def test_failed_mails_show_why_and_can_be_sent_again(admin_client, settings):
    settings.PAYOPS_AWS = "off"
    order, mail = order_received_mail()
    Mail.objects.update(status=MailStatus.FAILED, attempts=1, last_error="attempt 1: MessageRejected: no")

    page = admin_client.get("/admin/mail/mail/?status=failed").content.decode()
    assert order.number in page and "shopper@example.com" in page
    detail = admin_client.get(f"/admin/mail/mail/{mail.pk}/change/").content.decode()
    assert f"We received your order {order.number}" in detail and "MessageRejected: no" in detail

    response = admin_client.post(
        "/admin/mail/mail/", {"action": "send_again", "_selected_action": [mail.pk]}, follow=True
    )
    assert "1 mail(s) queued to be sent again." in response.content.decode()
    assert Mail.objects.get().status == MailStatus.PENDING


def test_the_ses_page_shows_sent_mails_and_never_a_secret(admin_client, mail_ready, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_admin_page_must_not_show_this"
    order, mail = order_received_mail(locale="ja")
    assert mail_send(idempotency_key=mail.idempotency_key) == "sent"
    create_demo_secrets()

    page = admin_client.get("/admin/mail/mail/ses/").content.decode()

    assert f"ご注文を承りました（{order.number}）" in page and "shopper@example.com" in page
    assert "sk_test_admin_page_must_not_show_this" not in page and "whsec_payops_simulator" not in page
    for url in ("/admin/mail/mail/", f"/admin/mail/mail/{mail.pk}/change/"):
        assert "sk_test_admin_page_must_not_show_this" not in admin_client.get(url).content.decode()
