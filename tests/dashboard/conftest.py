from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group

from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel
from tests.factories import make_order, make_payment, make_product


def make_staff(django_user_model, username: str, level: StaffLevel | None):
    user = django_user_model.objects.create_user(username, is_staff=True)
    if level is not None:
        user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[level]))
    return user


@pytest.fixture
def users(db, django_user_model):
    """One user per row of the permission matrix (None: anonymous)."""
    return {
        "anonymous": None,
        "no_level": make_staff(django_user_model, "nolevel", None),
        "view": make_staff(django_user_model, "viewer", StaffLevel.VIEW),
        "operate": make_staff(django_user_model, "operator", StaffLevel.OPERATE),
        "refund": make_staff(django_user_model, "refunder", StaffLevel.REFUND),
    }


@pytest.fixture
def as_user(client, users):
    def login(name: str):
        user = users[name]
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return login


@pytest.fixture
def paid_order(db):
    order = make_order(
        status="paid", product=make_product(price_amount=5000, stock_on_hand=5), quantity=2, email="buyer@example.com"
    )
    make_payment(order, intent_id="pi_paid_1", status="succeeded", amount=10_000, amount_received=10_000)
    return order


@pytest.fixture
def unpaid_order(db):
    order = make_order(status="awaiting_payment", email="late@example.com")
    make_payment(order, intent_id="pi_unpaid_1", method="konbini", status="requires_action")
    return order


def key() -> str:
    return uuid.uuid4().hex


def stripe_answers(request):
    """A fake Stripe that refunds and cancels whatever it is asked to."""
    if request.path == "/v1/refunds":
        ours = request.params["metadata[payops_refund_id]"]
        return 200, {
            "id": f"re_{ours}",
            "object": "refund",
            "amount": int(request.params["amount"]),
            "currency": "jpy",
            "status": "succeeded",
            "payment_intent": request.params["payment_intent"],
            "metadata": {"payops_refund_id": ours},
        }
    if request.path.endswith("/cancel"):
        from tests.fakes.stripe_api import payment_intent_json

        intent_id = request.path.split("/")[3]
        return 200, payment_intent_json(id=intent_id, status="canceled", payment_method_types=["konbini"])
    return 404, {"error": {"type": "invalid_request_error", "message": f"no fake for {request.path}"}}


@pytest.fixture
def stripe(fake_stripe):
    fake_stripe.responder = stripe_answers
    return fake_stripe


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counts and the overview are cached briefly; each test starts from none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
