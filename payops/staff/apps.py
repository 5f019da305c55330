from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "payops.staff"
    label = "staff"
    verbose_name = "Staff access levels"

    def ready(self) -> None:
        from payops.staff.levels import ensure_staff_groups

        # After auth has created this app's permissions (it is connected earlier for every app).
        post_migrate.connect(ensure_staff_groups, sender=self, dispatch_uid="payops.staff.groups")
