"""Per-user API tokens: list your own, create one from a signed-in session, revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import StaffApiView, StaffListApiView
from orders.api.permissions import CanView, FromSession
from orders.api.serializers.tokens import ApiTokenSerializer, CreateApiTokenSerializer, CreatedApiTokenSerializer
from orders.api.views.staff_actions import parsed
from payops.api.pagination import NewestFirstCursorPagination
from payops.apikeys.models import ApiToken
from payops.apikeys.services import TokenRefused, api_token_create, api_token_revoke


def _visible_tokens(request: Request) -> QuerySet[ApiToken]:
    """Your own tokens; a superuser sees everyone's (to revoke a leaked one)."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if request.user.is_superuser else tokens.filter(Q(user=request.user))


class ApiTokenListApi(StaffListApiView):
    serializer_class = ApiTokenSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> QuerySet[ApiToken]:
        return _visible_tokens(self.request)

    def get_permissions(self) -> list[Any]:
        if self.request is not None and self.request.method == "POST":
            return [CanView(), FromSession()]
        return [CanView()]

    @extend_schema(tags=["api tokens"], operation_id="api_tokens_list", summary="Your API tokens")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["api tokens"],
        operation_id="api_tokens_create",
        summary="Create an API token (from a signed-in session)",
        description="The token acts as you, limited to `level`, which must not exceed your own. The answer "
        "is the only time the token is shown. Tokens cannot create tokens: sign in (the dashboard) "
        "and send the CSRF token.",
        request=CreateApiTokenSerializer,
        responses={201: CreatedApiTokenSerializer},
    )
    def post(self, request: Request) -> Response:
        data = parsed(CreateApiTokenSerializer, request)
        days = data.get("expires_in_days")
        try:
            created = api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=data["name"],
                level=data["level"],
                created_by=request.user,  # type: ignore[arg-type]
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            )
        except TokenRefused as exc:
            raise serializers.ValidationError({"level": [str(exc)]}) from exc
        body = {**ApiTokenSerializer(created.token).data, "token": created.plaintext}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(StaffApiView):
    permission_classes = [CanView]

    @extend_schema(
        tags=["api tokens"],
        operation_id="api_tokens_revoke",
        summary="Revoke an API token",
        description="Revokes at once; the token answers 401 from the next request. Yours, or anyone's for a "
        "superuser. Revoking a revoked token is a no-op.",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        token_id = _visible_tokens(request).values_list("pk", flat=True).get(pk=pk)  # 404 if not yours
        api_token_revoke(token_id=token_id, revoked_by=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
