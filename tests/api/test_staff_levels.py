"""The three staff levels as Django permissions and groups, for the API and the dashboard alike."""

import pytest
from django.contrib.auth.models import Group, User

from payops.staff.levels import (
    GROUP_FOR_LEVEL,
    PERMISSION_FOR_LEVEL,
    StaffLevel,
    level_includes,
    user_has_level,
    user_highest_level,
)
from tests.api.fixtures import make_staff

pytestmark = pytest.mark.django_db


def test_groups_are_cumulative():
    perms = {
        level: {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()}
        for level, name in GROUP_FOR_LEVEL.items()
    }
    assert perms[StaffLevel.VIEW] == {"staff.view_operations"}
    assert perms[StaffLevel.OPERATE] == {"staff.view_operations", "staff.operate_orders"}
    assert perms[StaffLevel.REFUND] == set(PERMISSION_FOR_LEVEL.values())


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("view", {"view"}),
        ("operate", {"view", "operate"}),
        ("refund", {"view", "operate", "refund"}),
        (None, set()),
    ],
)
def test_user_levels_follow_their_group(level, expected):
    user = make_staff("someone", level)
    assert {lvl for lvl in StaffLevel.values if user_has_level(user, lvl)} == expected
    assert user_highest_level(user) == (StaffLevel(level) if level else None)


def test_superusers_have_every_level_and_anonymous_none():
    root = User.objects.create_superuser("root", password=None)
    assert all(user_has_level(root, level) for level in StaffLevel.values)
    assert not user_has_level(None, "view")


def test_level_includes():
    assert level_includes("refund", "view") and level_includes("operate", "operate")
    assert not level_includes("view", "operate")


def test_groups_are_recreated_by_migrate_if_deleted():
    from django.core.management import call_command

    Group.objects.filter(name=GROUP_FOR_LEVEL[StaffLevel.OPERATE]).delete()
    call_command("migrate", verbosity=0)
    assert Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel.OPERATE]).permissions.count() == 2
