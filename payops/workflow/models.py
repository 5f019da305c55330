from django.conf import settings
from django.db import models
from django.db.models import Q


class ExecutionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ABORTED = "aborted", "Aborted"


class StepStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"  # a task attempt due at ``due_at``
    RUNNING = "running", "Running"  # a worker holds it until ``due_at`` (its lease)
    WAITING = "waiting", "Waiting"  # wait / approval / callback, until ``due_at`` or a signal
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STEP_STATUSES = (StepStatus.SCHEDULED, StepStatus.RUNNING, StepStatus.WAITING)


class WorkflowExecution(models.Model):
    """One run of a workflow. Its ``data`` is the document states read and write (ASL's state
    input/output); ``current_state`` is where it is."""

    workflow = models.CharField(max_length=64)
    version = models.CharField(max_length=16, help_text="Fingerprint of the definition that started it.")
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="workflow_executions"
    )
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING)
    current_state = models.CharField(max_length=128, blank=True)
    input = models.JSONField(default=dict)
    data = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=128, blank=True)
    cause = models.TextField(blank=True)
    # While paused no step starts (one already running finishes); timers stop and resume after.
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=255, blank=True)
    last_step_sequence = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # One execution per workflow and order: a second order.paid cannot start another.
            models.UniqueConstraint(fields=["workflow", "order"], name="workflow_one_execution_per_order"),
        ]
        indexes = [models.Index(fields=["status", "workflow"], name="workflow_exec_status_idx")]

    def __str__(self) -> str:
        return f"{self.workflow} #{self.pk} ({self.status})"


class StepRun(models.Model):
    """One attempt at one state. A retry is a new row; the timeline is these rows in sequence."""

    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveIntegerField()
    state = models.CharField(max_length=128)
    kind = models.CharField(max_length=16)
    attempt = models.PositiveIntegerField(default=1)
    # Sequence of the first attempt of this visit: retries share it, and so do idempotency keys.
    visit = models.PositiveIntegerField()
    # Retries used so far in this visit, per retrier index (ASL counts each retrier separately).
    retries = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=StepStatus.choices)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=128, blank=True)
    cause = models.TextField(blank=True)
    # scheduled: run at; running: lease ends; waiting: the wait ends / the approval or callback times out.
    due_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=16, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True)
    # A callback's signal that arrived while its task was still running, applied when it returns.
    early_signal = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["execution", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "sequence"], name="steprun_unique_sequence"),
            # An execution is in one place at a time: at most one step that is not finished.
            models.UniqueConstraint(
                fields=["execution"], condition=Q(status__in=OPEN_STEP_STATUSES), name="steprun_one_open_per_execution"
            ),
        ]
        indexes = [
            # The sweep: open steps by due time.
            models.Index(fields=["due_at"], name="steprun_open_due_idx", condition=Q(status__in=OPEN_STEP_STATUSES)),
        ]

    def __str__(self) -> str:
        return f"{self.execution_id}#{self.sequence} {self.state} ({self.status})"
