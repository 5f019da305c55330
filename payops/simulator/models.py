"""State of the payment simulator: the Stripe objects it has handed out (ADR 0003).

Every model keeps Stripe's public id (``pi_…``, ``cus_…``) in ``stripe_id`` and an integer
primary key, so rows sort in creation order without trusting clock resolution. Amounts are
integers in the currency's minor unit, as on the Stripe API.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SimCustomer(models.Model):
    stripe_id = models.CharField(max_length=64, unique=True)
    email = models.CharField(max_length=512, blank=True)
    name = models.CharField(max_length=256, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Bank transfers that were not (yet) applied to a PaymentIntent wait here, as in Stripe:
    # {"jpy": 1200}, minor units per lower-case currency.
    cash_balance = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.stripe_id


class IntentStatus(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


class SimPaymentIntent(models.Model):
    stripe_id = models.CharField(max_length=64, unique=True)
    client_secret = models.CharField(max_length=128)
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3, help_text="Lower case, as Stripe returns it.")
    status = models.CharField(max_length=32, choices=IntentStatus.choices)
    customer = models.ForeignKey(
        SimCustomer, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_intents"
    )
    payment_method_types = models.JSONField(default=list)
    payment_method_options = models.JSONField(default=dict, blank=True)
    # The attached PaymentMethod: its id, its type, and for test cards the magic token it was
    # created from (pm_card_visa …), which decides how the card behaves.
    payment_method = models.CharField(max_length=64, blank=True)
    payment_method_type = models.CharField(max_length=32, blank=True)
    test_card = models.CharField(max_length=64, blank=True)
    billing_details = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    receipt_email = models.CharField(max_length=512, blank=True)
    return_url = models.CharField(max_length=2048, blank=True)
    amount_received = models.BigIntegerField(default=0, help_text="Minor units.")
    # Bank transfer money already applied while the intent is still short (partial funding).
    amount_funded = models.BigIntegerField(default=0, help_text="Minor units.")
    last_payment_error = models.JSONField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=64, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    konbini_expires_at = models.DateTimeField(null=True, blank=True)
    konbini_stores = models.JSONField(null=True, blank=True)
    bank_transfer_reference = models.CharField(max_length=32, blank=True, db_index=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sim_intent_amount_positive"),
            models.CheckConstraint(condition=Q(amount_funded__gte=0), name="sim_intent_funded_not_negative"),
        ]

    def __str__(self) -> str:
        return self.stripe_id

    @property
    def amount_remaining(self) -> int:
        return max(self.amount - self.amount_funded, 0)


class SimCharge(models.Model):
    """The successful charge behind a succeeded PaymentIntent; refunds hang off it."""

    stripe_id = models.CharField(max_length=64, unique=True)
    payment_intent = models.ForeignKey(SimPaymentIntent, on_delete=models.CASCADE, related_name="charges")
    amount = models.BigIntegerField(help_text="Minor units.")
    amount_refunded = models.BigIntegerField(default=0, help_text="Minor units.")
    currency = models.CharField(max_length=3)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount")),
                name="sim_charge_refund_within_amount",
            )
        ]

    def __str__(self) -> str:
        return self.stripe_id


class SimRefund(models.Model):
    stripe_id = models.CharField(max_length=64, unique=True)
    charge = models.ForeignKey(SimCharge, on_delete=models.CASCADE, related_name="refunds")
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, default="succeeded")
    reason = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sim_refund_amount_positive")]

    def __str__(self) -> str:
        return self.stripe_id


class SimEvent(models.Model):
    """A Stripe Event and its delivery to payops's webhook endpoint.

    ``body`` is the exact JSON that is sent, fixed when the event happens, so every retry
    delivers the same bytes (only the signature timestamp changes, as with Stripe).
    """

    stripe_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=128)
    object_id = models.CharField(max_length=64, db_index=True, help_text="Id of data.object.")
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveIntegerField(null=True, blank=True, help_text="HTTP status of the last attempt.")
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when the retries are used up; the dashboard can send it again.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="sim_event_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.type}"

    @property
    def delivery_state(self) -> str:
        if self.delivered_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "retrying" if self.attempts else "pending"


class SimIdempotencyKey(models.Model):
    """The stored outcome of a POST sent with an ``Idempotency-Key``, replayed for a retry."""

    key = models.CharField(max_length=255, unique=True)
    # sha256 over method, path and the decoded parameters: the same key with other
    # parameters is an error, as on Stripe.
    fingerprint = models.CharField(max_length=64)
    request_id = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField()
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.key


class SimWebhookEndpoint(models.Model):
    stripe_id = models.CharField(max_length=64, unique=True)
    url = models.CharField(max_length=2048)
    enabled_events = models.JSONField(default=list)
    description = models.CharField(max_length=5000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    disabled = models.BooleanField(default=False)
    secret = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.url}"
