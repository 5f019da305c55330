"""Shapes every part of the API shares: strict input, money, timestamps, the shopper's next step."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from orders.models import Payment
from orders.presentation import money_json, next_action_for, payment_failure_json


class StrictIntegerField(serializers.IntegerField):
    """An integer that must be a JSON integer: not "3", not 3.0, not true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error rather than silently ignored."""

    refuses_unknown_fields = True  # the schema says additionalProperties: false

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not allowed."] for name in unknown})
        return super().to_internal_value(data)


class UtcDateTimeField(serializers.DateTimeField):
    """Timestamps in UTC, ISO 8601 with ``Z``, whatever the server's time zone."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(**kwargs)


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        help_text="In the currency's minor unit: ¥1,500 is 1500, $9.99 is 999. Never a float."
    )
    currency = serializers.CharField(help_text="ISO 4217 code, upper case.", min_length=3, max_length=3)
    display = serializers.CharField(help_text="Formatted for people, e.g. ¥1,500 or $9.99.")


@extend_schema_field(MoneySerializer)
class MoneyField(serializers.Field):
    """An amount attribute and a currency attribute of the object, as one money object."""

    def __init__(self, amount: str, currency: str = "currency", **kwargs: Any) -> None:
        self.amount_attr, self.currency_attr = amount, currency
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return money_json(getattr(value, self.amount_attr), getattr(value, self.currency_attr))


class KonbiniStoreSerializer(serializers.Serializer):
    payment_code = serializers.CharField(allow_null=True, required=False)
    confirmation_number = serializers.CharField(allow_null=True, required=False)


class KonbiniNextActionSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="konbini")
    expires_at = serializers.IntegerField(allow_null=True, help_text="Unix time after which the voucher is void.")
    hosted_voucher_url = serializers.URLField(allow_null=True, help_text="Stripe's printable voucher page.")
    stores = serializers.DictField(
        child=KonbiniStoreSerializer(),
        help_text="Per convenience store chain (familymart, lawson, ministop, seicomart): the codes to pay with.",
    )


class BankAccountSerializer(serializers.Serializer):
    """A Japanese (zengin) bank account to transfer to."""

    account_holder_name = serializers.CharField(allow_null=True, required=False)
    account_number = serializers.CharField(allow_null=True, required=False)
    account_type = serializers.CharField(allow_null=True, required=False)
    bank_code = serializers.CharField(allow_null=True, required=False)
    bank_name = serializers.CharField(allow_null=True, required=False)
    branch_code = serializers.CharField(allow_null=True, required=False)
    branch_name = serializers.CharField(allow_null=True, required=False)


class BankTransferNextActionSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="bank_transfer")
    amount_remaining = serializers.IntegerField(allow_null=True, help_text="Still to transfer, minor units.")
    currency = serializers.CharField()
    reference = serializers.CharField(allow_null=True, help_text="Must appear on the transfer.")
    hosted_instructions_url = serializers.URLField(allow_null=True)
    bank_account = BankAccountSerializer()


class ThreeDSecureNextActionSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="three_d_secure")
    url = serializers.URLField(help_text="Send the shopper here to authenticate the card.")


class ConfirmCardNextActionSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="confirm_card")
    client_secret = serializers.CharField(help_text="Confirm the card with Stripe.js using this secret.")


NEXT_ACTION_SCHEMA = PolymorphicProxySerializer(
    component_name="NextAction",
    serializers={
        "konbini": KonbiniNextActionSerializer,
        "bank_transfer": BankTransferNextActionSerializer,
        "three_d_secure": ThreeDSecureNextActionSerializer,
        "confirm_card": ConfirmCardNextActionSerializer,
    },
    resource_type_field_name="type",
    many=False,
)


@extend_schema_field(NEXT_ACTION_SCHEMA)
class NextActionField(serializers.Field):
    """What the shopper must do next to pay, or null when there is nothing to do."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, payment: Payment) -> dict[str, Any] | None:
        return next_action_for(payment)


class PaymentFailureSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="What went wrong, coarsely: declined, insufficient_funds, expired_card, wrong_cvc, wrong_number, "
        "authentication, not_supported, try_again, time_ran_out or other. Stripe's own code is for staff only."
    )
    message = serializers.CharField(help_text="What to tell the shopper, in the order's language.")


@extend_schema_field(PaymentFailureSerializer(allow_null=True))
class PaymentFailureField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, payment: Payment) -> dict[str, str] | None:
        return payment_failure_json(payment)


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField(help_text="The product's name when the order was placed.")
    quantity = serializers.IntegerField()
    unit_price = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()

    @extend_schema_field(MoneySerializer)
    def get_unit_price(self, line: Any) -> dict[str, Any]:
        return money_json(line.unit_price_amount, line.order.currency)

    @extend_schema_field(MoneySerializer)
    def get_total(self, line: Any) -> dict[str, Any]:
        return money_json(line.unit_price_amount * line.quantity, line.order.currency)
