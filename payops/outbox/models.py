import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy


class OutboxStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("outbox status", "Pending")
    PUBLISHED = "published", pgettext_lazy("outbox status", "Published")
    DEAD = "dead", pgettext_lazy("outbox status", "Dead (needs a person)")


class OutboxEvent(models.Model):
    """One domain event, written in the transaction of the change it describes.

    A worker publishes it to EventBridge after commit; ``event_id`` is stable across retries
    and travels in the detail, so consumers can drop the duplicates at-least-once delivery brings.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=256, help_text="EventBridge source, e.g. payops.orders")
    detail_type = models.CharField(max_length=128, help_text="EventBridge detail-type, e.g. order.paid")
    detail = models.JSONField()
    # What the event is about and its place in that aggregate's history (consumers order by it).
    aggregate = models.CharField(max_length=64, help_text="e.g. the order number")
    sequence = models.PositiveIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    eventbridge_event_id = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The publisher's claim: pending rows due for an attempt, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"], name="outbox_pending_due_idx", condition=Q(status="pending")
            ),
            models.Index(fields=["aggregate", "sequence"], name="outbox_aggregate_seq_idx"),
            models.Index(fields=["status", "published_at"], name="outbox_status_published_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.detail_type} {self.aggregate}#{self.sequence} ({self.status})"
