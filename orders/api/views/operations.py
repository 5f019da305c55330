"""The machinery behind orders, for staff: webhook inbox, outbox to EventBridge, mail log.

Replays, retries and resends go through the staff layer (orders/services/staff_operations.py),
as the dashboard's do: the level, once per Idempotency-Key, an audit event on the rows' orders."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import StaffApiView, StaffListApiView, StaffRetrieveApiView
from orders.api.filters import InboxEventFilter, MailFilter, OutboxEventFilter
from orders.api.permissions import may
from orders.api.serializers.operations import (
    BulkIdsRequestSerializer,
    InboxBulkReplayResponseSerializer,
    InboxEventListItemSerializer,
    InboxEventSerializer,
    InboxReplayResponseSerializer,
    MailListItemSerializer,
    MailSerializer,
    OutboxEventListItemSerializer,
    OutboxEventSerializer,
    OutboxRetryResponseSerializer,
)
from orders.api.views.staff_actions import parsed
from orders.services import staff_operations as operations
from payops.api.pagination import NewestFirstCursorPagination, newest_first
from payops.api.problems import Problem
from payops.api.schema import documented_problem
from payops.mail.models import Mail
from payops.outbox.models import OutboxEvent
from webhooks.models import InboxEvent

BEING_PROCESSED = documented_problem(
    409,
    "being-processed",
    "Being processed",
    "inbox event 42 is being processed right now",
    "A worker is processing the row right now; try again when it is done. Or another request with the "
    "same Idempotency-Key is running (`idempotency-key-in-use`).",
)
NOT_DEAD = documented_problem(
    409,
    "not-dead",
    "Not dead",
    "outbox event 42 is published, not dead; only dead rows are retried",
    "Only dead rows are retried (a pending row is retried by the publisher already). Or another request "
    "with the same Idempotency-Key is running (`idempotency-key-in-use`).",
)
NOT_RESENDABLE = documented_problem(
    409,
    "action-not-allowed",
    "Action not allowed",
    "This mail is sent; only failed or unconfirmed mails are sent again.",
    "Only a failed or unconfirmed mail is sent again. Or another request with the same Idempotency-Key is "
    "running (`idempotency-key-in-use`).",
)


class InboxEventListApi(StaffListApiView):
    queryset = InboxEvent.objects.all()
    serializer_class = InboxEventListItemSerializer
    pagination_class = newest_first("received_at")
    filter_backends = [DjangoFilterBackend]
    filterset_class = InboxEventFilter

    @extend_schema(tags=["webhook inbox"], operation_id="webhook_events_list", summary="Received webhook events")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class InboxEventDetailApi(StaffRetrieveApiView):
    queryset = InboxEvent.objects.all()
    serializer_class = InboxEventSerializer

    @extend_schema(
        tags=["webhook inbox"],
        operation_id="webhook_events_retrieve",
        summary="One webhook event: payload, outcome, last error and traceback",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class InboxEventReplayApi(StaffApiView):
    permission_classes = [may("webhook_replay")]

    @extend_schema(
        tags=["webhook inbox"],
        operation_id="webhook_events_replay",
        summary="Process a webhook event again, now",
        description="Needs the operate level. Handlers are idempotent: replaying an applied event changes "
        "nothing, replaying a failed one retries it with a fresh attempt budget.",
        request=None,
        responses={200: InboxReplayResponseSerializer, (409, "application/problem+json"): BEING_PROCESSED},
    )
    def post(self, request: Request, pk: int) -> Response:
        # InboxEvent.DoesNotExist -> 404; a row a worker holds -> 409 being-processed
        outcome = operations.staff_inbox_replay_row(self.staff_request(request), inbox_id=pk)
        event = InboxEventSerializer(InboxEvent.objects.get(pk=pk)).data
        body = {"result": outcome.status or event["status"], "event": event}
        return Response(body)


class InboxEventBulkReplayApi(StaffApiView):
    permission_classes = [may("webhook_replay")]

    @extend_schema(
        tags=["webhook inbox"],
        operation_id="webhook_events_replay_many",
        summary="Process several webhook events again, oldest first",
        description="Needs the operate level. Unknown ids are skipped; rows a worker holds are reported as skipped.",
        request=BulkIdsRequestSerializer,
        responses={200: InboxBulkReplayResponseSerializer},
    )
    def post(self, request: Request) -> Response:
        ids = parsed(BulkIdsRequestSerializer, request)["ids"]
        outcome = operations.staff_inbox_replay(self.staff_request(request), inbox_ids=ids)
        return Response({"summary": outcome.summary})


class OutboxEventListApi(StaffListApiView):
    queryset = OutboxEvent.objects.all()
    serializer_class = OutboxEventListItemSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OutboxEventFilter

    @extend_schema(tags=["outbox"], operation_id="outbox_events_list", summary="Domain events for EventBridge")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class OutboxEventDetailApi(StaffRetrieveApiView):
    queryset = OutboxEvent.objects.all()
    serializer_class = OutboxEventSerializer

    @extend_schema(tags=["outbox"], operation_id="outbox_events_retrieve", summary="One outbox row, with its detail")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class OutboxEventRetryApi(StaffApiView):
    permission_classes = [may("outbox_retry")]

    @extend_schema(
        tags=["outbox"],
        operation_id="outbox_events_retry",
        summary="Send a dead outbox row round again",
        description="Needs the operate level. Its attempts start from zero; the last error stays until it is "
        "published.",
        request=None,
        responses={200: OutboxEventSerializer, (409, "application/problem+json"): NOT_DEAD},
    )
    def post(self, request: Request, pk: int) -> Response:
        OutboxEvent.objects.filter(pk=pk).values_list("pk", flat=True).get()  # 404 if unknown
        outcome = operations.staff_outbox_retry(self.staff_request(request), outbox_ids=[pk])
        if not outcome.count and not outcome.repeated:
            row = OutboxEvent.objects.get(pk=pk)
            raise Problem(
                status_code=status.HTTP_409_CONFLICT,
                slug="not-dead",
                title="Not dead",
                detail=f"outbox event {pk} is {row.status}, not dead (or still too large to send); "
                "only dead rows are retried",
            )
        return Response(OutboxEventSerializer(OutboxEvent.objects.get(pk=pk)).data)


class OutboxEventBulkRetryApi(StaffApiView):
    permission_classes = [may("outbox_retry")]

    @extend_schema(
        tags=["outbox"],
        operation_id="outbox_events_retry_many",
        summary="Send several dead outbox rows round again",
        description="Needs the operate level. Rows that are not dead, or unknown, are left alone.",
        request=BulkIdsRequestSerializer,
        responses={200: OutboxRetryResponseSerializer},
    )
    def post(self, request: Request) -> Response:
        ids = parsed(BulkIdsRequestSerializer, request)["ids"]
        return Response({"retried": operations.staff_outbox_retry(self.staff_request(request), outbox_ids=ids).count})


class MailResendApi(StaffApiView):
    permission_classes = [may("mail_resend")]

    @extend_schema(
        tags=["mail"],
        operation_id="mails_resend",
        summary="Send a failed or unconfirmed mail again",
        description="Needs the operate level. Its idempotency key stays: it is still that one mail, and SES is "
        "asked again only for a mail that failed or whose sending was never confirmed.",
        request=None,
        responses={200: MailSerializer, (409, "application/problem+json"): NOT_RESENDABLE},
    )
    def post(self, request: Request, pk: int) -> Response:
        # Mail.DoesNotExist -> 404; a mail that was sent (or is pending) -> 409
        operations.staff_mail_resend(self.staff_request(request), mail_id=pk)
        return Response(MailSerializer(Mail.objects.get(pk=pk)).data)


class MailListApi(StaffListApiView):
    serializer_class = MailListItemSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = MailFilter

    def get_queryset(self) -> QuerySet[Mail]:
        return Mail.objects.all()

    @extend_schema(tags=["mail"], operation_id="mails_list", summary="The mail log")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class MailDetailApi(StaffRetrieveApiView):
    queryset = Mail.objects.all()
    serializer_class = MailSerializer

    @extend_schema(tags=["mail"], operation_id="mails_retrieve", summary="One mail, with its context")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
