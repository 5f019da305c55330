from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy


class MailTemplate(models.TextChoices):
    ORDER_RECEIVED = "order_received", "Order received"
    PAYMENT_RECEIVED = "payment_received", "Payment received"
    SHIPPED = "shipped", "Shipped"
    REFUND_ISSUED = "refund_issued", "Refund issued"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    PAYMENT_EXPIRED = "payment_expired", "Payment window expired"
    APOLOGY = "apology", "Apology"


class MailStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("mail status", "Pending")
    SENDING = "sending", pgettext_lazy("mail status", "Sending")
    SENT = "sent", pgettext_lazy("mail status", "Sent")
    FAILED = "failed", pgettext_lazy("mail status", "Failed")
    # The worker stopped during the SES call: SES may or may not have sent it. A person checks
    # before sending again, because sending twice is worse than asking (ADR 0006).
    UNCONFIRMED = "unconfirmed", pgettext_lazy("mail status", "Unconfirmed (worker stopped while sending)")


class Mail(models.Model):
    """One message to one recipient. The idempotency key makes a second enqueue a no-op."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=32, choices=MailTemplate.choices)
    recipient = models.EmailField()
    language = models.CharField(max_length=2, choices=[("ja", "日本語"), ("en", "English")])
    # What the template needs, rendered when the mail is sent. Never a secret.
    context = models.JSONField(default=dict, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="e.g. the order number")
    status = models.CharField(max_length=16, choices=MailStatus.choices, default=MailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    ses_message_id = models.CharField(max_length=128, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="mail_pending_due_idx", condition=Q(status="pending")),
            models.Index(fields=["claimed_at"], name="mail_sending_claimed_idx", condition=Q(status="sending")),
            models.Index(fields=["reference"], name="mail_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"
