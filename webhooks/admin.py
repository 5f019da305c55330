from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webhooks.models import InboxEvent
from webhooks.services.replay import inbox_replay_many


@admin.register(InboxEvent)
class InboxEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "provider", "type", "status", "attempts", "received_at", "processed_at"]
    list_filter = ["status", "provider", "type"]
    search_fields = ["event_id", "type"]
    readonly_fields = [field.name for field in InboxEvent._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay selected events")
    def replay(self, request: HttpRequest, queryset: QuerySet[InboxEvent]) -> None:
        summary = inbox_replay_many(inbox_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ", ".join(f"{k}: {v}" for k, v in summary.items()), messages.INFO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
