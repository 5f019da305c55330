from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from payops.staff.models import StaffAccess


@admin.register(StaffAccess)
class StaffAccessAdmin(admin.ModelAdmin):
    """The permissions' holder has no rows (and no table): staff get their level through the
    groups "Staff: view", "Staff: operate" and "Staff: refund" (Authentication › Groups)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffAccess]:
        return StaffAccess.objects.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StaffAccess | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StaffAccess | None = None) -> bool:
        return False
