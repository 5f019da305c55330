from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy


class InboxStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("inbox status", "Received")
    PROCESSING = "processing", pgettext_lazy("inbox status", "Processing")
    PROCESSED = "processed", pgettext_lazy("inbox status", "Processed")
    FAILED = "failed", pgettext_lazy("inbox status", "Failed")
    IGNORED = "ignored", pgettext_lazy("inbox status", "Ignored")


class InboxEvent(models.Model):
    """One delivery we accepted, stored before we acknowledge it, processed later by a worker.

    The unique (provider, event_id) pair is what makes a redelivery a no-op.
    """

    provider = models.CharField(max_length=64, help_text='"stripe" or "outside:<source>"')
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    api_version = models.CharField(max_length=64, blank=True)
    livemode = models.BooleanField(default=False)
    # The provider's own timestamp of the event (Stripe's `created`), unix seconds.
    event_created = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=InboxStatus.choices, default=InboxStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    # A worker that claimed the row holds it until then; past it the sweep may take it over.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True, help_text="What processing did, or why it was ignored.")
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The order processing touched, or (when it failed) the order the event is about, as its
    # handler's app named it. A plain id, not a foreign key: the inbox depends on no app it serves.
    order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="inbox_unique_provider_event")]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbox_status_received_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="inbox_pending_idx",
                condition=Q(status__in=["received", "processing", "failed"]),
            ),
            models.Index(fields=["type", "-received_at"], name="inbox_type_idx"),
            models.Index(
                fields=["order_id", "received_at"], name="inbox_order_idx", condition=Q(order_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.type}"
