from __future__ import annotations

from dataclasses import dataclass

import stripe

from payops.stripe.gateway import StripeWebhookAdmin, WebhookEndpointData, get_gateway
from webhooks.handlers import stripe_event_types


@dataclass(frozen=True)
class EndpointSyncResult:
    action: str  # "created", "updated" or "unchanged"
    endpoint: WebhookEndpointData


def stripe_webhook_endpoint_sync(*, url: str) -> EndpointSyncResult:
    """Subscribe only to the events some app registered a handler for: every extra type costs
    deliveries and noise."""
    admin = StripeWebhookAdmin(get_gateway())
    wanted = list(stripe_event_types())
    existing = next((endpoint for endpoint in admin.list_endpoints() if endpoint.url == url), None)
    if existing is None:
        endpoint = admin.create_endpoint(url=url, events=wanted, api_version=stripe.api_version)
        return EndpointSyncResult("created", endpoint)
    if sorted(existing.enabled_events) == wanted:
        return EndpointSyncResult("unchanged", existing)
    return EndpointSyncResult("updated", admin.update_endpoint(existing.id, events=wanted))
