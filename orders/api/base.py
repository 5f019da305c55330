"""The base classes of every API view: problems for domain errors, Idempotency-Key on POST,
and the authentication, permission and throttling defaults of public and staff endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.errors import problem_for
from orders.api.permissions import CanView
from orders.services.staff_actions import StaffRequest
from payops.api.problems import Problem
from payops.api.throttling import AnonymousThrottle, TokenThrottle
from payops.apikeys.authentication import ApiTokenAuthentication
from payops.apikeys.models import ApiToken
from payops.idempotency.api import IdempotentPostMixin


class ApiMixin(IdempotentPostMixin):
    # A view that takes a body may cap it below Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    max_body_bytes: int | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # No identifier contains a NUL, and PostgreSQL refuses to even compare with one.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound("No such resource.")
        limit = self.max_body_bytes
        if limit is not None and request.method == "POST" and _body_too_large(request, limit):
            raise Problem(
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                slug="request-too-large",
                title="Request too large",
                detail=f"the request body must be at most {limit} bytes",
            )
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(problem_for(exc) or exc)


class PublicApiView(ApiMixin, APIView):
    """For shoppers and frontends: anonymous, throttled per address and ``throttle_scope``.

    A token is accepted (its client is then throttled per token instead); a session is not,
    so a shopper's browser never needs a CSRF token.
    """

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousThrottle, TokenThrottle]
    throttle_scope = "default"


class StaffApiView(ApiMixin, APIView):
    """For the dashboard (session) and integrations (token); needs a staff level."""

    permission_classes = [CanView]

    def staff_request(self, request: Request) -> StaffRequest:
        """The staff layer's request: the user, how they came (which token), their token's level,
        and the reference a retry with the same Idempotency-Key is recognised by (a fresh one
        without a key: each request is then its own)."""
        token = request.auth
        claim = self.idempotency_claim
        return StaffRequest(
            user=request.user,
            reference=claim.service_key if claim else f"api:{uuid.uuid4().hex}",
            via=f"api token {token.prefix}" if isinstance(token, ApiToken) else "api session",
            token_level=token.level if isinstance(token, ApiToken) else None,
        )


class StaffListApiView(ApiMixin, generics.ListAPIView):
    permission_classes = [CanView]


class StaffRetrieveApiView(ApiMixin, generics.RetrieveAPIView):
    permission_classes = [CanView]


def _body_too_large(request: Request, limit: int) -> bool:
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return True
        return len(request._request.body) > limit
    except (ValueError, RequestDataTooBig):
        return True
