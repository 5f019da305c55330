"""Read-only admin: executions and their steps are written by the engine only. Approvals go
through ``manage.py workflow approve|reject`` (or the dashboard), which call the services."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from payops.workflow.models import StepRun, WorkflowExecution


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    can_delete = False
    ordering = ["sequence"]
    fields = ("sequence", "state", "kind", "attempt", "status", "due_at", "started_at", "finished_at", "error")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkflowExecution)
class WorkflowExecutionAdmin(admin.ModelAdmin):
    list_display = ["pk", "workflow", "order", "status", "current_state", "paused_at", "started_at", "finished_at"]
    list_filter = ["workflow", "status"]
    search_fields = ["order__number", "current_state", "error"]
    list_select_related = ["order"]
    inlines = [StepRunInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "execution", "sequence", "state", "attempt", "status", "due_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["state", "error", "execution__order__number"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
