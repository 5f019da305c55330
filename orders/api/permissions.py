"""Who may call what: the three staff levels (payops/staff/levels.py), narrowed by a token's level.

A session user needs the level's permission. A token client needs it too, and the token's own
level must cover it: a "view" token of a user who may refund can still only read.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from orders.selectors import STAFF_ACTION_LEVELS
from payops.apikeys.models import ApiToken
from payops.apikeys.services import api_token_allows
from payops.staff.levels import StaffLevel, user_has_level


class StaffLevelPermission(BasePermission):
    staff_level: StaffLevel = StaffLevel.VIEW
    message = "You do not have permission to perform this action."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 (not authenticated) rather than 403
        if not user_has_level(user, self.staff_level):
            self.message = f"This needs the staff level {self.staff_level.value!r}."
            return False
        token = request.auth
        if isinstance(token, ApiToken) and not api_token_allows(token, self.staff_level):
            self.message = f"This token's level {token.level!r} does not cover {self.staff_level.value!r}."
            return False
        return True


class CanView(StaffLevelPermission):
    staff_level = StaffLevel.VIEW


class CanOperate(StaffLevelPermission):
    staff_level = StaffLevel.OPERATE


class CanRefund(StaffLevelPermission):
    staff_level = StaffLevel.REFUND


def may(action: str) -> type[StaffLevelPermission]:
    """The gate of a staff action's endpoint: the level orders/selectors.py names for the action.
    The staff layer checks it again; the gate answers 403 before the body is even read."""
    level = STAFF_ACTION_LEVELS[action]
    return type(f"May{action.title().replace('_', '')}", (StaffLevelPermission,), {"staff_level": level})


class FromSession(BasePermission):
    """Only a logged-in person (dashboard session), not a token: a token cannot mint tokens."""

    message = "Create tokens from a signed-in session (the dashboard), not with a token."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user is not None and request.user.is_authenticated and request.auth is None
