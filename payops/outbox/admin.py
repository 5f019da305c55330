"""The outbox in the admin: what was published, what waits, what died and why; retry by hand.

In the embedded profile a second page shows what the EventBridge bus (moto) actually received.
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
from payops.outbox.models import OutboxEvent
from payops.outbox.services import outbox_retry


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "detail_type",
        "aggregate",
        "sequence",
        "status",
        "attempts",
        "published_at",
        "short_error",
    ]
    list_filter = ["status", "detail_type"]
    search_fields = ["aggregate", "=event_id", "eventbridge_event_id"]
    date_hierarchy = "occurred_at"
    actions = ["retry_dead"]
    change_list_template = "admin/outbox/outboxevent/change_list.html"
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="last error")
    def short_error(self, row: OutboxEvent) -> str:
        return row.last_error[:120]

    @admin.action(description="Publish the selected dead events again")
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        retried = outbox_retry(ids=list(queryset.values_list("pk", flat=True)))
        messages.info(request, f"{retried} dead event(s) queued for publishing again.")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.bus_view)
        return [path("eventbridge/", view, name="outbox_eventbridge"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {"embedded_aws": settings.PAYOPS_AWS == "embedded", **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def bus_view(self, request: HttpRequest) -> HttpResponse:
        """What the embedded EventBridge received, read from moto's archive."""
        context: dict[str, Any] = {**self.admin_site.each_context(request), "title": "Events on the bus (moto)"}
        try:
            if settings.PAYOPS_AWS != "embedded":
                raise AwsNotConfigured("this page reads the embedded moto server; PAYOPS_AWS is not embedded")
            endpoint = endpoint_url() or ""
            context.update(endpoint=endpoint, events=embedded.archived_events(endpoint)[:200])
        except (AwsNotConfigured, OSError) as exc:
            context["error"] = str(exc)
        return TemplateResponse(request, "admin/outbox/eventbridge_state.html", context)
