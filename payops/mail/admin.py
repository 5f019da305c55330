"""Mail in the admin: every message with its status, SES id and error; send failed ones again.

In the embedded profile a second page shows the mails SES (moto) accepted, as the shopper gets them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from payops.aws import embedded
from payops.aws.client import AwsNotConfigured, endpoint_url
from payops.mail.models import Mail
from payops.mail.rendering import MailRenderError, render_mail
from payops.mail.services import mail_retry


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "template", "recipient", "language", "reference", "status", "attempts", "sent_at"]
    list_filter = ["status", "template", "language"]
    search_fields = ["recipient", "reference", "=idempotency_key", "ses_message_id"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    change_list_template = "admin/mail/mail/change_list.html"
    readonly_fields = [*(field.name for field in Mail._meta.fields), "subject_preview"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="subject")
    def subject_preview(self, mail: Mail) -> str:
        try:
            return render_mail(template=mail.template, language=mail.language, context=mail.context).subject
        except MailRenderError as exc:
            return str(exc)

    @admin.action(description="Send the selected failed / unconfirmed mails again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Mail]) -> None:
        retried = mail_retry(ids=list(queryset.values_list("pk", flat=True)))
        messages.info(request, f"{retried} mail(s) queued to be sent again.")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.ses_view)
        return [path("ses/", view, name="mail_ses"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {"embedded_aws": settings.PAYOPS_AWS == "embedded", **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def ses_view(self, request: HttpRequest) -> HttpResponse:
        """The mails the embedded SES accepted, read from moto."""
        context: dict[str, Any] = {**self.admin_site.each_context(request), "title": "Mails sent through SES (moto)"}
        try:
            if settings.PAYOPS_AWS != "embedded":
                raise AwsNotConfigured("this page reads the embedded moto server; PAYOPS_AWS is not embedded")
            endpoint = endpoint_url() or ""
            context.update(endpoint=endpoint, mails=embedded.sent_mails(endpoint)[:100])
        except (AwsNotConfigured, OSError) as exc:
            context["error"] = str(exc)
        return TemplateResponse(request, "admin/mail/ses_state.html", context)
