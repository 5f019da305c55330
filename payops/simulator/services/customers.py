"""Customers (needed for bank transfers) and webhook endpoint registrations."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from payops.simulator.errors import no_such
from payops.simulator.models import SimCustomer, SimWebhookEndpoint
from payops.simulator.stripe_objects import new_stripe_id


def create_customer(*, email: str = "", name: str = "", metadata: dict[str, str] | None = None) -> SimCustomer:
    return SimCustomer.objects.create(stripe_id=new_stripe_id("cus"), email=email, name=name, metadata=metadata or {})


def get_customer(customer_id: str) -> SimCustomer:
    try:
        return SimCustomer.objects.get(stripe_id=customer_id)
    except SimCustomer.DoesNotExist:
        raise no_such("customer", customer_id) from None


def create_webhook_endpoint(
    *, url: str, enabled_events: list[str], description: str = "", metadata: dict[str, str] | None = None
) -> SimWebhookEndpoint:
    # The simulator signs every delivery with the configured STRIPE_WEBHOOK_SECRETS[0], so that is
    # the secret it hands out: whatever payops stores from this response then verifies deliveries.
    return SimWebhookEndpoint.objects.create(
        stripe_id=new_stripe_id("we"),
        url=url,
        enabled_events=enabled_events,
        description=description,
        metadata=metadata or {},
        secret=settings.STRIPE_WEBHOOK_SECRETS[0],
    )


@transaction.atomic
def update_webhook_endpoint(
    *,
    endpoint_id: str,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    disabled: bool | None = None,
    metadata: dict[str, str] | None = None,
) -> SimWebhookEndpoint:
    endpoint = _lock_endpoint(endpoint_id)
    if url is not None:
        endpoint.url = url
    if enabled_events is not None:
        endpoint.enabled_events = enabled_events
    if description is not None:
        endpoint.description = description
    if disabled is not None:
        endpoint.disabled = disabled
    if metadata is not None:
        endpoint.metadata = {**endpoint.metadata, **metadata}
    endpoint.save()
    return endpoint


def delete_webhook_endpoint(*, endpoint_id: str) -> str:
    endpoint = get_webhook_endpoint(endpoint_id)
    endpoint.delete()
    return endpoint_id


def get_webhook_endpoint(endpoint_id: str) -> SimWebhookEndpoint:
    try:
        return SimWebhookEndpoint.objects.get(stripe_id=endpoint_id)
    except SimWebhookEndpoint.DoesNotExist:
        raise no_such("webhook_endpoint", endpoint_id) from None


def _lock_endpoint(endpoint_id: str) -> SimWebhookEndpoint:
    try:
        return SimWebhookEndpoint.objects.select_for_update().get(stripe_id=endpoint_id)
    except SimWebhookEndpoint.DoesNotExist:
        raise no_such("webhook_endpoint", endpoint_id) from None
