"""Rendering mails from ``templates/mail/<language>/<template>.txt`` and ``.html``.

The text template's first line is the subject, then a blank line, then the body: one file holds
what a translator must keep together. The HTML template extends ``mail/base.html``. Both render
in the mail's language (dates and money formatted for it), the text one without HTML escaping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.dateparse import parse_datetime

LANGUAGES = ("ja", "en")


class MailRenderError(Exception):
    """The template is missing or broken; sending again will not help until someone fixes it."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render_mail(*, template: str, language: str, context: Mapping[str, Any]) -> RenderedMail:
    language = language if language in LANGUAGES else "en"
    values = {**_with_datetimes(context), "language": language}
    try:
        with translation.override(language):
            text_template = get_template(f"mail/{language}/{template}.txt")
            raw = text_template.template.render(Context(values, autoescape=False))  # type: ignore[attr-defined]
            html = render_to_string(f"mail/{language}/{template}.html", values)
    except Exception as exc:
        raise MailRenderError(f"could not render mail/{language}/{template}: {type(exc).__name__}: {exc}") from exc
    subject, _, body = raw.strip().partition("\n")
    subject = " ".join(subject.split())
    if not subject:
        raise MailRenderError(f"mail/{language}/{template}.txt renders no subject line")
    return RenderedMail(subject=subject, text=body.strip() + "\n", html=html)


def _with_datetimes(context: Mapping[str, Any]) -> dict[str, Any]:
    """JSON has no datetimes: turn ISO strings under ``*_at`` keys back into them for the |date filter."""
    result: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, Mapping):
            result[key] = _with_datetimes(value)
        elif isinstance(value, list):
            result[key] = [_with_datetimes(item) if isinstance(item, Mapping) else item for item in value]
        elif key.endswith("_at") and isinstance(value, str):
            result[key] = parse_datetime(value) or value
        else:
            result[key] = value
    return result
