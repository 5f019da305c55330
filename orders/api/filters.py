"""The filters of the staff lists, as django-filter FilterSets.

A FilterSet is a form too, so the dashboard can render and apply the very same filters in
HTML (``OrderFilter(request.GET, queryset=...)``) that the API applies to query parameters.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from orders.dashboard.order_list import search_orders
from orders.models import Order, Payment
from orders.models.payments import PaymentMethod
from orders.state_machine import OrderStatus
from payops.mail.models import Mail, MailStatus, MailTemplate
from payops.outbox.models import OutboxEvent, OutboxStatus
from payops.workflow.models import ExecutionStatus, WorkflowExecution
from webhooks.models import InboxEvent, InboxStatus

# Far enough from datetime's limits that converting between time zones cannot overflow.
_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class BoundedIsoDateTimeField(forms.DateTimeField):
    """ISO 8601 (a time without offset is read in the server's zone), clamped to 1970–9000 so
    converting between time zones cannot overflow: an earlier bound means "from the start"."""

    def to_python(self, value: object) -> dt.datetime | None:
        parsed = django_filters.fields.IsoDateTimeField().to_python(value)
        if parsed is None:
            return None
        try:
            aware = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows.
            return min(max(aware, _EARLIEST), _LATEST).astimezone(dt.UTC)
        except (OverflowError, ValueError):  # the offset pushes it past what datetime can hold
            return _EARLIEST if parsed.year < 1970 else _LATEST


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """An empty value of a typed parameter (``status=``, ``created_from=``) is an error, not
    "no filter": a client that sends one has a bug the API should show it."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, field in self.filters.items():
            if isinstance(field, django_filters.CharFilter) and not isinstance(field, django_filters.ChoiceFilter):
                continue
            if name in self.data and any(value.strip() == "" for value in self.data.getlist(name)):
                self.form.add_error(name if name in self.form.fields else None, "This value may not be empty.")
                valid = False
        return valid


@extend_schema_field({"type": "integer", "minimum": 0, "description": "Minor units of `currency`."})
class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class OrderFilter(StrictFilterSet):
    """The dashboard's order filters (orders/dashboard/order_list.py), as query parameters."""

    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, help_text="One or more statuses (repeat the parameter)."
    )
    method = django_filters.ChoiceFilter(
        choices=PaymentMethod.choices, method="filter_method", help_text="Orders with a payment of this method."
    )
    created_from = django_filters.DateFilter(
        method="filter_created_from", help_text="Placed on or after this day (server time zone)."
    )
    created_to = django_filters.DateFilter(method="filter_created_to", help_text="Placed on or before this day.")
    currency = django_filters.CharFilter(
        max_length=3,
        method="filter_currency",
        help_text="ISO 4217. Orders in this currency; amount_min / amount_max are in its minor units "
        "(without it, in the shop's currency, PAYOPS_CURRENCY).",
    )
    amount_min = IntegerFilter(method="filter_amount_min", min_value=0)
    amount_max = IntegerFilter(method="filter_amount_max", min_value=0)
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=254,
        help_text="An email (exact), a PaymentIntent id (pi_..., exact), or an order number (whole or its start).",
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_method(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(Exists(Payment.objects.filter(order=OuterRef("pk"), method=value)))

    def filter_created_from(self, queryset: QuerySet[Order], name: str, value: dt.date) -> QuerySet[Order]:
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_created_to(self, queryset: QuerySet[Order], name: str, value: dt.date) -> QuerySet[Order]:
        return queryset.filter(created_at__lt=_start_of(value + dt.timedelta(days=1)))

    def filter_currency(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(currency=value.upper())

    def _amount_currency(self) -> str:
        return str(self.form.cleaned_data.get("currency") or settings.PAYOPS_CURRENCY).upper()

    def filter_amount_min(self, queryset: QuerySet[Order], name: str, value: int) -> QuerySet[Order]:
        return queryset.filter(currency=self._amount_currency(), total_amount__gte=value)

    def filter_amount_max(self, queryset: QuerySet[Order], name: str, value: int) -> QuerySet[Order]:
        return queryset.filter(currency=self._amount_currency(), total_amount__lte=value)

    def filter_search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return search_orders(queryset, value)  # the dashboard's search box, exactly


def _start_of(day: dt.date) -> dt.datetime:
    try:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    except (OverflowError, ValueError):  # the first or last day datetime can hold
        return _EARLIEST if day.year < 1970 else _LATEST


class InboxEventFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=InboxStatus.choices)
    type = django_filters.CharFilter(max_length=128, help_text="Exact event type, e.g. payment_intent.succeeded.")
    provider = django_filters.CharFilter(max_length=64, help_text='"stripe" or "outside:<source>".')
    received_after = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = InboxEvent
        fields: list[str] = []


class OutboxEventFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices)
    detail_type = django_filters.CharFilter(max_length=128, help_text="e.g. order.paid.")
    aggregate = django_filters.CharFilter(max_length=64, help_text="The order number.")

    class Meta:
        model = OutboxEvent
        fields: list[str] = []


class MailFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=MailStatus.choices)
    template = django_filters.ChoiceFilter(choices=MailTemplate.choices)
    reference = django_filters.CharFilter(max_length=64, help_text="The order number.")
    recipient = django_filters.CharFilter(lookup_expr="iexact", max_length=254)

    class Meta:
        model = Mail
        fields: list[str] = []


class WorkflowExecutionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)
    workflow = django_filters.CharFilter(max_length=64, help_text="The workflow's name, e.g. fulfilment.")
    order = django_filters.CharFilter(field_name="order__number", max_length=20, help_text="The order number.")

    class Meta:
        model = WorkflowExecution
        fields: list[str] = []
