from django.db import models
from django.db.models import Q

from payops.money import Money


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    KONBINI = "konbini", "Konbini"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"


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
    # `created` of the newest Stripe event applied, so an older event never overwrites newer data.
    last_event_created = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(condition=Q(amount_received__gte=0), name="payment_received_not_negative"),
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
    status = models.CharField(max_length=32, default="pending")
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return self.refund_id or f"refund {self.pk}"
