from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from payops.apikeys.models import ApiToken
from payops.apikeys.services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read and revoke only: a token is created where its value can be shown once
    (the API or ``manage.py api_token_create``), never stored."""

    list_display = ["prefix", "name", "user", "level", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["level"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token_id in queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True):
            api_token_revoke(token_id=token_id, revoked_by=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
