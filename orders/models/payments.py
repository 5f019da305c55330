from django.conf import settings
from django.db import models
from django.db.models import Q

from payops.money import Money


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    KONBINI = "konbini", "Konbini"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    # Money confirmed outside Stripe: a deposit seen by the merchant's bank, cash on delivery.
    OUTSIDE = "outside", "Paid outside Stripe"


# Payment statuses of payops's own, before (or instead of) Stripe's PaymentIntent statuses:
# the row is written with the order, before the PaymentIntent exists ...
PAYMENT_CREATING = "creating"
# ... and a checkout that could not set the PaymentIntent up leaves it here (order payment_failed).
PAYMENT_SETUP_FAILED = "setup_failed"


class Payment(models.Model):
    """One Stripe PaymentIntent of an order, mirrored from the gateway."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    method = models.CharField(max_length=32, choices=PaymentMethod.choices)
    amount = models.BigIntegerField(help_text="Minor units.")
    amount_received = models.BigIntegerField(default=0, help_text="Minor units.")
    # Bank transfers can arrive in parts; Stripe reports what is still due.
    amount_remaining = models.BigIntegerField(null=True, blank=True, help_text="Minor units.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=64, help_text="Stripe's PaymentIntent status.")
    # Stripe intends the client secret for the shopper's browser (3-D Secure, Stripe.js);
    # it is shown only on the order's own status page.
    client_secret = models.CharField(max_length=255, blank=True)
    next_action = models.JSONField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # Cumulative amount Stripe reports refunded on the charge.
    amount_refunded = models.BigIntegerField(default=0, help_text="Minor units.")
    # An open Radar review holds fulfilment until it closes.
    review_open = models.BooleanField(default=False)
    # Where the money came from when it was not Stripe (source name and its payment id).
    outside_source = models.CharField(max_length=64, blank=True)
    outside_reference = models.CharField(max_length=255, blank=True)
    # `created` of the newest Stripe event applied per object kind, so an older event that
    # arrives late never overwrites newer data (Stripe delivers out of order).
    last_event_created = models.BigIntegerField(null=True, blank=True)
    last_charge_event_created = models.BigIntegerField(null=True, blank=True)
    last_review_event_created = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(condition=Q(amount_received__gte=0), name="payment_received_not_negative"),
            models.UniqueConstraint(
                fields=["outside_source", "outside_reference"],
                condition=~Q(outside_source=""),
                name="payment_unique_outside_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.intent_id or f"payment {self.pk}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    # "requested" until Stripe has answered; then Stripe's status (pending, succeeded, failed...).
    status = models.CharField(max_length=32, default="requested")
    failure_reason = models.CharField(max_length=255, blank=True)
    # Who asked, and the key of their request: a second submit of the same form is a no-op.
    request_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    last_event_created = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return self.refund_id or f"refund {self.pk}"


class Dispute(models.Model):
    """A chargeback on a payment, as Stripe reports it."""

    CLOSED_STATUSES = ("won", "lost", "warning_closed", "prevented")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    dispute_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=32)
    reason = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    # The order's status when the dispute opened, to return to when it is won.
    order_status_before = models.CharField(max_length=32, blank=True)
    last_event_created = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.dispute_id

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES
