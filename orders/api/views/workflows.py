"""Workflow executions for staff: list, timeline, and the approvals they wait for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api.base import StaffApiView, StaffListApiView
from orders.api.filters import WorkflowExecutionFilter
from orders.api.permissions import may
from orders.api.serializers.workflows import (
    ApprovalDecisionSerializer,
    PendingApprovalListSerializer,
    WorkflowExecutionListItemSerializer,
    WorkflowTimelineSerializer,
)
from orders.api.views.staff_actions import parsed
from orders.services.staff_actions import staff_decide_execution
from payops.api.pagination import newest_first
from payops.api.schema import documented_problem
from payops.workflow.models import WorkflowExecution
from payops.workflow.selectors import execution_timeline, executions_awaiting_approval

NOT_WAITING = documented_problem(
    409,
    "not-waiting-for-approval",
    "Not waiting for approval",
    "execution 7 is not waiting for approval (at WaitForShipment)",
    "The execution is not at an approval step now (decided already, timed out, or elsewhere); or another "
    "request with the same Idempotency-Key is running (`idempotency-key-in-use`).",
)


class WorkflowExecutionListApi(StaffListApiView):
    serializer_class = WorkflowExecutionListItemSerializer
    pagination_class = newest_first("started_at")
    filter_backends = [DjangoFilterBackend]
    filterset_class = WorkflowExecutionFilter

    def get_queryset(self) -> QuerySet[WorkflowExecution]:
        return WorkflowExecution.objects.select_related("order")

    @extend_schema(tags=["workflows"], operation_id="workflow_executions_list", summary="Workflow executions")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class WorkflowExecutionDetailApi(StaffApiView):
    @extend_schema(
        tags=["workflows"],
        operation_id="workflow_executions_retrieve",
        summary="One execution and its timeline of steps (retries, waits, decisions, errors)",
        responses=WorkflowTimelineSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        timeline = execution_timeline(execution_id=pk)  # WorkflowExecution.DoesNotExist -> 404
        return Response(WorkflowTimelineSerializer(timeline).data)


class WorkflowApprovalDecisionApi(StaffApiView):
    # Approving needs less than rejecting may: the staff layer checks the decision's own level.
    permission_classes = [may("approve")]

    @extend_schema(
        tags=["workflows"],
        operation_id="workflow_executions_decide",
        summary="Approve or reject the approval an execution waits for",
        description="Approving needs the operate level, rejecting the refund level. The execution goes on "
        "along its approve or reject branch (for the fulfilment workflow a rejection refunds the payment and "
        "mails an apology).",
        request=ApprovalDecisionSerializer,
        responses={200: WorkflowTimelineSerializer, (409, "application/problem+json"): NOT_WAITING},
        examples=[OpenApiExample("approve", value={"decision": "approved", "note": "called the customer"})],
    )
    def post(self, request: Request, pk: int) -> Response:
        data = parsed(ApprovalDecisionSerializer, request)
        # WorkflowExecution.DoesNotExist -> 404; not at an approval -> 409 not-waiting-for-approval
        staff_decide_execution(
            self.staff_request(request), execution_id=pk, decision=data["decision"], note=data["note"]
        )
        return Response(WorkflowTimelineSerializer(execution_timeline(execution_id=pk)).data)


class PendingApprovalListApi(StaffApiView):
    @extend_schema(
        tags=["workflows"],
        operation_id="workflow_approvals_list",
        summary="Approvals waiting for a person, soonest timeout first",
        responses=PendingApprovalListSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(PendingApprovalListSerializer({"results": executions_awaiting_approval()}).data)
