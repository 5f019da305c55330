"""SES (API v2): send a mail payops rendered, and set up the sending identity.

payops renders its own templates and sends Raw content (a MIME message with a text and an HTML
part): it controls the headers and language, and does not depend on SES templates (which moto
does not serve). Errors are split into "try again later" and "will never work" here, so the
mail service does not need to know SES's error codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from botocore.exceptions import ClientError
from django.conf import settings

from payops.aws.client import AwsNotConfigured, aws_client, describe_error, error_code, is_retryable, is_throttling

# SES's answers that no retry will change.
PERMANENT_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
        "InvalidParameterValue",
    }
)


class SesError(Exception):
    def __init__(self, message: str, *, code: str, retryable: bool, throttled: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.throttled = throttled


@dataclass(frozen=True)
class OutgoingMail:
    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    language: str
    headers: Mapping[str, str]


def build_mime(mail: OutgoingMail) -> bytes:
    """A multipart/alternative message, UTF-8 throughout (subjects in Japanese included)."""
    message = EmailMessage()
    name, address = parseaddr(mail.sender)
    message["From"] = formataddr((name, address)) if name else address
    message["To"] = mail.recipient
    # A subject is one line: a newline in rendered text must not become a header injection.
    message["Subject"] = " ".join(mail.subject.split())
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    for header, value in mail.headers.items():
        message[header] = " ".join(value.split())
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    # After the content: setting content clears every Content-* header already there.
    message["Content-Language"] = mail.language
    return message.as_bytes()


def send_mail(mail: OutgoingMail, *, tags: Mapping[str, str] | None = None) -> str:
    """Send through SES; returns SES's message id or raises ``SesError``."""
    params: dict[str, object] = {
        "FromEmailAddress": mail.sender,
        "Destination": {"ToAddresses": [mail.recipient]},
        "Content": {"Raw": {"Data": build_mime(mail)}},
    }
    if settings.PAYOPS_MAIL_CONFIGURATION_SET:
        params["ConfigurationSetName"] = settings.PAYOPS_MAIL_CONFIGURATION_SET
    if tags:
        params["EmailTags"] = [{"Name": name, "Value": _tag_value(value)} for name, value in tags.items()]
    try:
        response = aws_client("sesv2").send_email(**params)
    except AwsNotConfigured as exc:
        raise SesError(str(exc), code="AwsNotConfigured", retryable=True) from exc
    except Exception as exc:
        code = error_code(exc)
        permanent = isinstance(exc, ClientError) and code in PERMANENT_CODES
        raise SesError(
            describe_error(exc),
            code=code,
            retryable=not permanent and is_retryable(exc),
            throttled=is_throttling(code),
        ) from exc
    return str(response["MessageId"])


def _tag_value(value: str) -> str:
    # SES tag values allow only ASCII letters, digits, '_', '-', '.', '@'.
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-.@") else "_" for c in value)[:256]


@dataclass(frozen=True)
class SesIdentity:
    identity: str
    verified: bool
    dkim_tokens: list[str]


def ensure_identity(identity: str) -> SesIdentity:
    """Create the sending identity (an address or a domain) unless it exists; returns its status.

    For a domain, SES answers with the DKIM tokens to publish in DNS; the deploy command shows them.
    """
    client = aws_client("sesv2")
    try:
        response = client.create_email_identity(EmailIdentity=identity)
    except ClientError as exc:
        if error_code(exc) != "AlreadyExistsException":
            raise
        response = client.get_email_identity(EmailIdentity=identity)
    return SesIdentity(
        identity=identity,
        verified=bool(response.get("VerifiedForSendingStatus")),
        dkim_tokens=list((response.get("DkimAttributes") or {}).get("Tokens") or []),
    )
