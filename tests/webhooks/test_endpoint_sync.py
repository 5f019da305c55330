import pytest
from django.core.management import CommandError, call_command

from webhooks.handlers import stripe_event_types

URL = "https://shop.example.com/webhooks/stripe/"


def endpoint(events, **extra):
    return {"id": "we_1", "object": "webhook_endpoint", "url": URL, "enabled_events": list(events), **extra}


def test_creates_an_endpoint_with_exactly_the_handled_types(fake_stripe, capsys):
    def responder(request):
        if request.method == "GET":
            return 200, {"object": "list", "data": [], "has_more": False, "url": "/v1/webhook_endpoints"}
        return 200, endpoint(list(stripe_event_types()), secret="whsec_new_one")

    fake_stripe.responder = responder
    call_command("stripe_webhook_sync", "--url", URL)
    create = fake_stripe.requests[-1]
    assert create.method == "POST" and create.path == "/v1/webhook_endpoints"
    events = sorted(v for k, v in create.params.items() if k.startswith("enabled_events["))
    assert events == list(stripe_event_types())
    assert "payment_intent.succeeded" in events and "customer.created" not in events
    assert create.params["url"] == URL
    out = capsys.readouterr().out
    assert "created we_1" in out and "whsec_new_one" in out and "STRIPE_WEBHOOK_SECRETS" in out


def test_updates_an_endpoint_subscribed_to_too_much(fake_stripe, capsys):
    def responder(request):
        if request.method == "GET":
            return 200, {"object": "list", "data": [endpoint(["*"])], "has_more": False, "url": "/v1/webhook_endpoints"}
        return 200, endpoint(list(stripe_event_types()))

    fake_stripe.responder = responder
    call_command("stripe_webhook_sync", "--url", URL)
    assert fake_stripe.requests[-1].path == "/v1/webhook_endpoints/we_1"
    assert "updated we_1" in capsys.readouterr().out


def test_refuses_plain_http_for_a_public_url():
    with pytest.raises(CommandError, match="https"):
        call_command("stripe_webhook_sync", "--url", "http://shop.example.com/webhooks/stripe/")
