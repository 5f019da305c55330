"""The SES module on its own: the MIME payops builds, and how SES's answers are classified."""

import email
import email.policy

import pytest

from payops.aws.ses import OutgoingMail, SesError, build_mime, ensure_identity, send_mail
from tests.aws_fixtures import error_response


def outgoing(**overrides):
    fields = {
        "sender": "payops shop <orders@payops.example>",
        "recipient": "hanako@example.jp",
        "subject": "ご注文を承りました",
        "text": "ありがとうございます。",
        "html": "<p>ありがとうございます。</p>",
        "language": "ja",
        "headers": {"X-Payops-Mail-Id": "7"},
    }
    return OutgoingMail(**{**fields, **overrides})


def test_the_message_is_multipart_utf8_and_a_subject_cannot_inject_headers():
    raw = build_mime(outgoing(subject="hello\r\nBcc: everyone@example.com"))
    message = email.message_from_bytes(raw, policy=email.policy.default)

    assert message["Subject"] == "hello Bcc: everyone@example.com"
    assert message["Bcc"] is None
    assert message.get_content_type() == "multipart/alternative"
    assert message["Content-Language"] == "ja" and message["X-Payops-Mail-Id"] == "7"
    assert message.get_body(("plain",)).get_content() == "ありがとうございます。\n"
    assert message.get_body(("html",)).get_content() == "<p>ありがとうございます。</p>\n"


def test_ses_answers_are_classified(aws):
    ensure_identity("payops.example")
    answers = iter(
        [
            error_response(429, "TooManyRequestsException", "slow down", json_protocol=False),
            error_response(400, "MessageRejected", "Email address is on the suppression list", json_protocol=False),
            error_response(503, "ServiceUnavailable", "try again", json_protocol=False),
        ]
    )
    aws.on("sesv2", "before-send.sesv2.SendEmail", lambda **kwargs: next(answers, None))

    outcomes = []
    for _ in range(3):
        with pytest.raises(SesError) as raised:
            send_mail(outgoing())
        outcomes.append((raised.value.code, raised.value.retryable, raised.value.throttled))
    assert outcomes == [
        ("TooManyRequestsException", True, True),
        ("MessageRejected", False, False),
        ("ServiceUnavailable", True, False),
    ]
    assert send_mail(outgoing())  # and then SES takes it: a message id


def test_an_unreachable_ses_is_worth_retrying(aws, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    with pytest.raises(SesError) as raised:
        send_mail(outgoing())
    assert raised.value.retryable and raised.value.code == "EndpointConnectionError"
