"""The simulator's state in the admin, read-only: it changes through its API and controls."""

from django.contrib import admin
from django.http import HttpRequest

from payops.simulator import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.SimCustomer)
class SimCustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "email", "created"]
    search_fields = ["stripe_id", "email"]


@admin.register(models.SimPaymentIntent)
class SimPaymentIntentAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "status", "amount", "currency", "payment_method_type", "created"]
    list_filter = ["status", "payment_method_type"]
    search_fields = ["stripe_id"]
    exclude = ["client_secret"]


@admin.register(models.SimCharge)
class SimChargeAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "payment_intent", "amount", "amount_refunded", "created"]


@admin.register(models.SimRefund)
class SimRefundAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "charge", "amount", "status", "created"]


@admin.register(models.SimEvent)
class SimEventAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "type", "object_id", "attempts", "last_status", "created"]
    list_filter = ["type", "last_status"]
    search_fields = ["stripe_id", "object_id"]


@admin.register(models.SimIdempotencyKey)
class SimIdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "status_code", "request_id", "created"]
    search_fields = ["key"]


@admin.register(models.SimWebhookEndpoint)
class SimWebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "url", "disabled", "created"]
    exclude = ["secret"]
