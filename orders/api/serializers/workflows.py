"""Workflow executions as staff see them: list rows, the step timeline, pending approvals."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers.common import StrictSerializer, UtcDateTimeField
from payops.workflow.definition import DECISIONS
from payops.workflow.models import ExecutionStatus, StepStatus, WorkflowExecution


class WorkflowExecutionListItemSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", allow_null=True, default=None)
    started_at = UtcDateTimeField()
    finished_at = UtcDateTimeField(allow_null=True)
    paused_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = WorkflowExecution
        fields = [
            "id",
            "workflow",
            "version",
            "order_number",
            "status",
            "current_state",
            "paused_at",
            "pause_reason",
            "started_at",
            "finished_at",
            "error",
        ]


class TimelineStepSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    state = serializers.CharField(help_text="The state's name in the workflow definition.")
    kind = serializers.CharField(help_text="task, choice, wait, approval, pass, succeed, fail ...")
    status = serializers.ChoiceField(choices=StepStatus.choices)
    attempt = serializers.IntegerField(help_text="A retry is a new step with the next attempt number.")
    started_at = UtcDateTimeField(allow_null=True)
    finished_at = UtcDateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    due_at = UtcDateTimeField(allow_null=True, help_text="When something happens next to an open step.")
    due_label = serializers.CharField(help_text='What happens at due_at: "runs at", "retry at", "waits until" ...')
    input = serializers.JSONField(allow_null=True, help_text="What the step was given (any JSON).")
    output = serializers.JSONField(allow_null=True, help_text="What the step returned (any JSON).")
    error = serializers.CharField()
    cause = serializers.CharField()
    decision = serializers.CharField(help_text="approved or rejected, for an approval step that was decided.")
    decided_by = serializers.CharField()
    decision_note = serializers.CharField()


class WorkflowTimelineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="execution_id")
    workflow = serializers.CharField()
    version = serializers.CharField()
    order_number = serializers.CharField(help_text="Empty when the execution is not about an order.")
    status = serializers.ChoiceField(choices=ExecutionStatus.choices)
    current_state = serializers.CharField()
    paused_at = UtcDateTimeField(allow_null=True)
    pause_reason = serializers.CharField()
    started_at = UtcDateTimeField()
    finished_at = UtcDateTimeField(allow_null=True)
    error = serializers.CharField()
    cause = serializers.CharField()
    data = serializers.JSONField(allow_null=True, help_text="The document the states read and write (any JSON).")  # type: ignore[assignment]  # an API field named like a Serializer attribute
    output = serializers.JSONField(allow_null=True, help_text="The execution's result (any JSON), once finished.")
    steps = TimelineStepSerializer(many=True)


class PendingApprovalSerializer(serializers.Serializer):
    execution_id = serializers.IntegerField()
    workflow = serializers.CharField()
    order_number = serializers.CharField()
    state = serializers.CharField()
    prompt = serializers.CharField(help_text="What the person is asked to decide.")
    details = serializers.JSONField(allow_null=True, help_text="What the workflow shows to decide on (any JSON).")
    waiting_since = UtcDateTimeField(allow_null=True)
    times_out_at = UtcDateTimeField(allow_null=True, help_text="Then the default decision applies.")
    default = serializers.CharField(help_text="The decision taken when nobody decides in time.")
    paused = serializers.BooleanField()


class PendingApprovalListSerializer(serializers.Serializer):
    results = PendingApprovalSerializer(many=True)


class ApprovalDecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=list(DECISIONS))
    note = serializers.CharField(max_length=500, allow_blank=True, default="")


class OrderDecisionSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=500, allow_blank=True, default="", help_text="Recorded with the decision on the timeline."
    )
