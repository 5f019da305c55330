from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from orders.models import Customer, Dispute, Order, OrderEvent, OrderLine, Payment, Product, Refund, Shipment


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price_amount", "currency", "stock_on_hand", "stock_reserved", "is_active"]
    search_fields = ["sku", "name", "name_ja"]
    list_filter = ["is_active", "is_digital", "currency"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "preferred_language", "created_at"]
    search_fields = ["email"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["product", "sku", "name", "unit_price_amount", "quantity"]


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = readonly_fields = (
        "intent_id",
        "method",
        "status",
        "amount",
        "amount_received",
        "amount_remaining",
        "failure_code",
    )


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "sequence",
        "type",
        "from_status",
        "to_status",
        "cause",
        "cause_reference",
        "staff_user",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "total_amount", "currency", "customer", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__email", "payments__intent_id"]
    # Status changes go through the services (and their events), never through a form field.
    readonly_fields = ["number", "status", "stock_state", "last_event_sequence", "paid_at", "total_amount", "currency"]
    exclude = ["token"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["intent_id", "order", "method", "status", "amount", "amount_received"]
    search_fields = ["intent_id", "order__number"]
    list_filter = ["method", "status"]
    exclude = ["client_secret"]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["refund_id", "payment", "amount", "currency", "status"]


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["order", "sequence", "type", "cause", "created_at"]
    list_filter = ["type", "cause"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["dispute_id", "payment", "status", "reason", "amount", "evidence_due_by"]
    list_filter = ["status", "reason"]
    search_fields = ["dispute_id", "payment__order__number"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["order", "carrier", "tracking_number", "shipped_at", "shipped_by"]
    search_fields = ["order__number", "tracking_number"]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "sku", "name", "quantity", "unit_price_amount"]
    search_fields = ["order__number", "sku"]
