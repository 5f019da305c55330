import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from orders.state_machine import OrderStatus
from payops.money import Money


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"


class Customer(models.Model):
    email = models.EmailField(unique=True, help_text="Stored lower-cased.")
    preferred_language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email


def new_order_token() -> str:
    # 192 bits from the OS CSPRNG; the only credential for the shopper's status page.
    return secrets.token_urlsafe(24)


# Crockford-style alphabet without 0/O, 1/I/L: easy to read out on the phone.
_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_order_number() -> str:
    body = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"PO-{body[:4]}-{body[4:]}"


class StockState(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    RELEASED = "released", "Released"
    COMMITTED = "committed", "Committed"


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, default=new_order_number)
    token = models.CharField(max_length=64, unique=True, default=new_order_token, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=32, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    total_amount = models.BigIntegerField(help_text="Order total in the currency's minor units.")
    locale = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    stock_state = models.CharField(max_length=16, choices=StockState.choices, default=StockState.RESERVED)
    # Incremented by every order event; clients and consumers order updates by it.
    last_event_sequence = models.PositiveIntegerField(default=0)
    # When an unpaid order stops holding stock (voucher / transfer window / card left unconfirmed).
    payment_expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The checkout request's Idempotency-Key claim, written with the order: a retry with the
    # key continues this order instead of making another (issue 13.2).
    checkout_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
            models.Index(
                fields=["payment_expires_at"],
                name="order_unpaid_expiry_idx",
                condition=Q(status__in=["pending_payment", "awaiting_payment"]),
            ),
            # The dashboard's lists at a million orders (docs/adr/0011-dashboard.md): newest first
            # with the pk as tie-breaker (keyset pagination), by amount, and paid today.
            models.Index(fields=["-created_at", "-id"], name="order_created_id_idx"),
            models.Index(fields=["total_amount", "id"], name="order_total_id_idx"),
            models.Index(fields=["paid_at"], name="order_paid_at_idx", condition=Q(paid_at__isnull=False)),
            # Prefix search on the number ("PO-AB"); PostgreSQL needs pattern ops for LIKE 'x%'.
            models.Index(fields=["number"], name="order_number_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return f"/orders/{self.token}/"

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def status_url(self) -> str:
        return f"{settings.PAYOPS_BASE_URL}{self.get_absolute_url()}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("orders.Product", on_delete=models.PROTECT, related_name="order_lines")
    # Snapshots: the line keeps what the shopper bought even if the catalogue changes later.
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price_amount = models.BigIntegerField(help_text="Minor units.")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["order", "product"], name="orderline_one_per_product")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_amount, self.order.currency)

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


class EventCause(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    WEBHOOK = "webhook", "Stripe webhook"
    OUTSIDE_PAYMENT = "outside_payment", "Payment outside Stripe"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"
    WORKFLOW = "workflow", "Workflow"


class OrderEventQuerySet(models.QuerySet["OrderEvent"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("order events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("order events are append-only")


class OrderEvent(models.Model):
    """Append-only log of everything that happened to an order, with its cause."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField()
    type = models.CharField(max_length=64, help_text="e.g. order.created, order.paid, payment.partially_funded")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)
    cause = models.CharField(max_length=32, choices=EventCause.choices)
    cause_reference = models.CharField(max_length=255, blank=True, help_text="Webhook event id, workflow step, ...")
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [models.UniqueConstraint(fields=["order", "sequence"], name="orderevent_unique_sequence")]
        indexes = [
            # Which order a webhook inbox row changed (the dashboard's inbox and timelines).
            models.Index(
                fields=["cause_reference"],
                name="orderevent_cause_ref_idx",
                condition=Q(cause__in=["webhook", "outside_payment"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.sequence} {self.type}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("order events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("order events are append-only")


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=64)
    tracking_number = models.CharField(max_length=128)
    tracking_url = models.URLField(blank=True)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    shipped_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "carrier", "tracking_number"], name="shipment_unique_tracking")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"
