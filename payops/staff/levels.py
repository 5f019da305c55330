"""The three staff levels of the dashboard and the API: view, operate, refund.

Each level is one Django permission (``staff.view_operations``, ``staff.operate_orders``,
``staff.refund_orders``) so any Django code checks it the usual way (``user.has_perm``,
``permission_required``, templates' ``perms``). Three groups bundle them cumulatively and are
what an administrator assigns: "Staff: view", "Staff: operate" (view + operate) and
"Staff: refund" (all three). Superusers have every level. See docs/adr/0008-api-conventions.md.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db import models


class StaffLevel(models.TextChoices):
    VIEW = "view", "View"
    OPERATE = "operate", "Operate"
    REFUND = "refund", "Refund"


PERMISSION_FOR_LEVEL = {
    StaffLevel.VIEW: "staff.view_operations",
    StaffLevel.OPERATE: "staff.operate_orders",
    StaffLevel.REFUND: "staff.refund_orders",
}

# Lowest first: a level includes every level before it (for groups and token scopes).
LEVEL_ORDER = [StaffLevel.VIEW, StaffLevel.OPERATE, StaffLevel.REFUND]

GROUP_FOR_LEVEL = {
    StaffLevel.VIEW: "Staff: view",
    StaffLevel.OPERATE: "Staff: operate",
    StaffLevel.REFUND: "Staff: refund",
}


def levels_up_to(level: str) -> list[StaffLevel]:
    return LEVEL_ORDER[: LEVEL_ORDER.index(StaffLevel(level)) + 1]


def level_includes(granted: str, needed: str) -> bool:
    """Does a grant of ``granted`` (a group, a token scope) cover ``needed``?"""
    return LEVEL_ORDER.index(StaffLevel(granted)) >= LEVEL_ORDER.index(StaffLevel(needed))


def user_has_level(user: AbstractBaseUser | AnonymousUser | None, level: str) -> bool:
    # A user model without PermissionsMixin has no permissions, hence no level.
    if user is None or not user.is_authenticated or not isinstance(user, PermissionsMixin):
        return False
    return user.has_perm(PERMISSION_FOR_LEVEL[StaffLevel(level)])


def user_highest_level(user: AbstractBaseUser | AnonymousUser | None) -> StaffLevel | None:
    held = [level for level in LEVEL_ORDER if user_has_level(user, level)]
    return held[-1] if held else None


def ensure_staff_groups(**kwargs: Any) -> None:
    """Create the three groups with their permissions (idempotent; runs after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    permissions = {
        f"staff.{perm.codename}": perm
        for perm in Permission.objects.using(using).filter(content_type__app_label="staff")
    }
    if len(permissions) < len(PERMISSION_FOR_LEVEL):
        return  # the permissions are created by a later post_migrate round
    for level, group_name in GROUP_FOR_LEVEL.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        group.permissions.add(*(permissions[PERMISSION_FOR_LEVEL[lower]] for lower in levels_up_to(level)))
