"""Mail rows sent through SES v2 (moto over HTTP): content, language, throttling, rejection, redelivery."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment, order_mark_paid
from payops.mail.models import Mail, MailStatus
from payops.mail.services import mail_enqueue, mail_retry, mail_send, mail_send_due
from payops.mail.tasks import send_mail_task, sweep_mail
from tests.aws_fixtures import error_response
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action, konbini_next_action

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(hours=1)
VOUCHER_EXPIRES = 1_800_000_000  # 2027-01-15 08:00 UTC = 17:00 in Japan


def parts(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def konbini_order_awaiting(*, locale="ja", email="hanako@example.jp"):
    order = make_order(product=make_product(name="抹茶 30g", price_amount=3200), locale=locale, email=email)
    make_payment(order, method="konbini", status="requires_action", next_action=konbini_next_action(VOUCHER_EXPIRES))
    order_mark_awaiting_payment(order_id=order.pk, cause=Cause.webhook("evt_1"))
    return order


def test_order_received_in_japanese_carries_the_konbini_voucher(mail_ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = konbini_order_awaiting()

    mail = Mail.objects.get()
    assert (mail.status, mail.template, mail.language) == (MailStatus.SENT, "order_received", "ja")
    assert mail.ses_message_id and mail.attempts == 1
    (message,) = mail_ready.sent_mails()
    assert message["To"] == "hanako@example.jp"
    assert message["From"] == "payops demo shop <orders@payops.example>"
    assert message["Subject"] == f"ご注文を承りました（{order.number}）"
    assert message["Content-Language"] == "ja"
    text, html = parts(message)
    assert "2027年1月15日（金）17:00までに、コンビニで現金でお支払いください。" in text
    assert "お支払い番号: 123456\n  確認番号: 12345678901\n" in text
    assert "ご利用いただけるお店: ファミリーマート・ローソン・ミニストップ・セイコーマート" in text
    assert "抹茶 30g × 1  3,200円" in text
    assert f"/orders/{order.token}/" in text  # the shopper's own link back to the order
    assert 'href="https://payments.stripe.com/konbini/voucher/test_1"' in html
    assert "<!doctype html>" in html and 'lang="ja"' in html


def test_bank_transfer_instructions_in_english(mail_ready, django_capture_on_commit_callbacks):
    order = make_order(product=make_product(name="Tea <b>set</b>", price_amount=68000), locale="en")
    make_payment(order, method="bank_transfer", status="requires_action", next_action=bank_transfer_next_action(68000))
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_awaiting_payment(order_id=order.pk, cause=Cause.webhook("evt_bt"))

    (message,) = mail_ready.sent_mails()
    assert message["Subject"] == f"We received your order {order.number}"
    text, html = parts(message)
    assert "Please transfer ¥68,000 to:" in text
    assert "Account type: Ordinary account" in text and "Account number: 1234567" in text
    assert "Transfer reference number: PAYOPS-REF" in text
    assert "1 x Tea <b>set</b>" in text  # text is not HTML-escaped...
    assert "Tea &lt;b&gt;set&lt;/b&gt;" in html  # ...HTML is


def test_paid_at_checkout_gets_one_confirmation_and_later_payments_a_receipt(
    mail_ready, django_capture_on_commit_callbacks
):
    card = make_order(product=make_product(price_amount=1500), locale="en", email="card@example.com")
    make_payment(card, method="card", status="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=card.pk, cause=Cause.webhook("evt_card"), data={"amount_received": 1500})
        konbini = konbini_order_awaiting(email="konbini@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=konbini.pk, cause=Cause.webhook("evt_paid"), data={"amount_received": 3200})

    sent = {(m["To"], m["Subject"]) for m in mail_ready.sent_mails()}
    assert sent == {
        ("card@example.com", f"Order {card.number} confirmed and paid"),
        ("konbini@example.jp", f"ご注文を承りました（{konbini.number}）"),
        ("konbini@example.jp", f"お支払いを確認しました（{konbini.number}）"),
    }


def test_throttled_then_sent_exactly_once(mail_ready):
    order = konbini_order_awaiting()
    key = Mail.objects.get().idempotency_key
    throttled = []

    def throttle(**kwargs):
        if not throttled:
            throttled.append(1)
            return error_response(429, "TooManyRequestsException", "Sending rate exceeded.", json_protocol=False)
        return None

    mail_ready.on("sesv2", "before-send.sesv2.SendEmail", throttle)

    assert mail_send(idempotency_key=key) == "retrying"
    mail = Mail.objects.get()
    assert mail.status == MailStatus.PENDING and "TooManyRequestsException" in mail.last_error
    assert mail.next_attempt_at > timezone.now()
    assert mail_send_due() == {}  # not due yet
    assert mail_send_due(now=timezone.now() + LATER) == {"sent": 1}

    (message,) = mail_ready.sent_mails()
    assert order.number in message["Subject"]
    assert Mail.objects.get().status == MailStatus.SENT


def test_a_permanent_rejection_is_recorded_and_not_retried(mail_ready, settings):
    settings.PAYOPS_MAIL_FROM = "shop <orders@unverified.example>"  # SES rejects an unverified sender
    konbini_order_awaiting()
    key = Mail.objects.get().idempotency_key

    assert mail_send(idempotency_key=key) == "failed"
    mail = Mail.objects.get()
    assert mail.status == MailStatus.FAILED
    assert mail.last_error.startswith("attempt 1: MessageRejected: ")
    assert sweep_mail.apply().result == {}
    assert mail_ready.sent_mails() == []


def test_a_redelivered_task_sends_nothing_new(mail_ready):
    konbini_order_awaiting()
    key = Mail.objects.get().idempotency_key

    assert send_mail_task.apply(args=[key]).result == "sent"
    assert send_mail_task.apply(args=[key]).result == "skipped"
    assert mail_send_due(now=timezone.now() + LATER) == {}
    assert len(mail_ready.sent_mails()) == 1
    assert Mail.objects.get().attempts == 1


def test_a_send_in_flight_elsewhere_is_not_repeated(mail_ready):
    konbini_order_awaiting()
    Mail.objects.update(status=MailStatus.SENDING, claimed_at=timezone.now())  # another worker has it

    assert send_mail_task.apply(args=[Mail.objects.get().idempotency_key]).result == "skipped"
    assert mail_ready.sent_mails() == []


def test_a_worker_lost_mid_send_leaves_the_mail_unconfirmed_for_a_person(mail_ready):
    konbini_order_awaiting()
    Mail.objects.update(status=MailStatus.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=2))

    assert mail_send_due() == {"unconfirmed": 1}
    mail = Mail.objects.get()
    assert mail.status == MailStatus.UNCONFIRMED and "SES may have sent" in mail.last_error
    assert mail_ready.sent_mails() == []  # never resent on a guess

    assert mail_retry(ids=[mail.pk]) == 1  # a person checked SES and sends it
    assert mail_send(idempotency_key=mail.idempotency_key) == "sent"
    assert len(mail_ready.sent_mails()) == 1


def test_the_same_idempotency_key_never_makes_a_second_mail(mail_ready, django_capture_on_commit_callbacks):
    context = {"order_number": "PO-TEST-0001", "total": {"amount": 1500, "currency": "JPY"}, "lines": []}
    fields = {"template": "apology", "recipient": "a@example.com", "language": "en", "context": context}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = mail_enqueue(idempotency_key="k-1", **fields)
        second = mail_enqueue(idempotency_key="k-1", **{**fields, "recipient": "b@example.com"})
    assert first.pk == second.pk and len(callbacks) == 1
    assert [m["To"] for m in mail_ready.sent_mails()] == ["a@example.com"]


def test_a_template_that_does_not_render_fails_visibly(mail_ready):
    mail_enqueue(template="no_such_template", recipient="a@example.com", language="en", context={}, idempotency_key="x")
    assert mail_send(idempotency_key="x") == "failed"
    assert "could not render mail/en/no_such_template" in Mail.objects.get().last_error


def test_without_aws_mails_wait(settings):
    settings.PAYOPS_AWS = "off"
    konbini_order_awaiting()
    assert mail_send(idempotency_key=Mail.objects.get().idempotency_key) == "waiting"
    assert Mail.objects.get().status == MailStatus.PENDING and Mail.objects.get().attempts == 0
