import pytest

from orders.errors import ActionNotAllowed
from orders.models import Product, Refund, Shipment
from orders.services.cancellation import order_cancel_unpaid
from orders.services.fulfilment import (
    order_approve,
    order_mark_delivered,
    order_mark_shipped,
    order_request_approval,
    order_start_fulfilment,
)
from orders.services.order_events import Cause
from orders.services.refunds import order_refund
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import payment_intent_json
from tests.stripe_events import stripe_event
from tests.webhooks.helpers import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", is_staff=True)


@pytest.fixture
def paid_order():
    order = make_order(status="paid", product=make_product(price_amount=5000, stock_on_hand=3), quantity=2)
    make_payment(order, intent_id="pi_paid", status="succeeded", amount=10_000, amount_received=10_000)
    return order


def refund_answer(request, status="succeeded"):
    ours = request.params["metadata[payops_refund_id]"]
    return 200, {
        "id": f"re_{ours}",
        "object": "refund",
        "amount": int(request.params["amount"]),
        "currency": "jpy",
        "status": status,
        "payment_intent": request.params["payment_intent"],
        "metadata": {"payops_refund_id": ours},
    }


def test_partial_refund_asks_stripe_once_and_moves_the_order(paid_order, staff, fake_stripe):
    fake_stripe.responder = refund_answer
    refund = order_refund(
        order_id=paid_order.pk, amount=3000, reason="damaged", cause=Cause.staff(staff), request_key="form-1"
    )
    (request,) = fake_stripe.requests
    assert request.path == "/v1/refunds"
    assert (request.params["payment_intent"], request.params["amount"]) == ("pi_paid", "3000")
    assert request.idempotency_key == f"payops:refund:{refund.pk}"
    assert (refund.refund_id, refund.status, refund.requested_by) == (f"re_{refund.pk}", "succeeded", staff)
    paid_order.refresh_from_db()
    assert paid_order.status == "partially_refunded"
    requested = paid_order.events.get(type="refund.requested")
    assert requested.staff_user == staff and requested.data["amount"] == 3000

    # the same form submitted again: no second refund
    again = order_refund(
        order_id=paid_order.pk, amount=3000, reason="damaged", cause=Cause.staff(staff), request_key="form-1"
    )
    assert again.pk == refund.pk
    assert len(fake_stripe.requests) == 1


def test_refund_over_the_refundable_amount_is_refused(paid_order, staff, fake_stripe):
    fake_stripe.responder = refund_answer
    order_refund(order_id=paid_order.pk, amount=8000, reason="", cause=Cause.staff(staff), request_key="a")
    with pytest.raises(ActionNotAllowed, match="at most ¥2,000"):
        order_refund(order_id=paid_order.pk, amount=2001, reason="", cause=Cause.staff(staff), request_key="b")
    full = order_refund(order_id=paid_order.pk, amount=None, reason="rest", cause=Cause.staff(staff), request_key="c")
    assert full.amount == 2000
    paid_order.refresh_from_db()
    assert paid_order.status == "refunded"
    with pytest.raises(ActionNotAllowed, match="nothing is left"):
        order_refund(order_id=paid_order.pk, amount=None, reason="", cause=Cause.staff(staff), request_key="d")


def test_unpaid_order_cannot_be_refunded(staff):
    order = make_order(status="awaiting_payment")
    with pytest.raises(ActionNotAllowed, match="no card or Stripe payment"):
        order_refund(order_id=order.pk, amount=None, reason="", cause=Cause.staff(staff), request_key="x")


def test_stripe_down_leaves_the_refund_requested_for_a_retry(paid_order, staff, fake_stripe, settings):
    from payops.stripe.gateway import GatewayUnavailable

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(GatewayUnavailable):
        order_refund(order_id=paid_order.pk, amount=1000, reason="", cause=Cause.staff(staff), request_key="k")
    refund = Refund.objects.get()
    assert refund.status == "requested"
    paid_order.refresh_from_db()
    assert paid_order.status == "paid"


def test_refund_rejected_by_stripe_is_recorded_failed(paid_order, staff, fake_stripe):
    fake_stripe.responder = lambda r: (
        400,
        {"error": {"type": "invalid_request_error", "code": "charge_disputed", "message": "This charge is disputed."}},
    )
    refund = order_refund(order_id=paid_order.pk, amount=1000, reason="", cause=Cause.staff(staff), request_key="k")
    assert refund.status == "failed" and "disputed" in refund.failure_reason
    assert paid_order.events.filter(type="refund.failed").exists()


def test_webhook_arriving_before_stripes_answer_fills_in_the_requested_refund(paid_order, staff, fake_stripe):
    from orders.services.refunds import _reserve_refund, refund_submit

    refund = _reserve_refund(
        order_id=paid_order.pk, amount=10_000, reason="", cause=Cause.staff(staff), request_key="k"
    )
    # Stripe's webhook overtakes its own API answer
    webhook_refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 10_000,
        "currency": "jpy",
        "status": "succeeded",
        "payment_intent": "pi_paid",
        "metadata": {"payops_refund_id": str(refund.pk)},
    }
    deliver(stripe_event("refund.created", webhook_refund))
    fake_stripe.responder = refund_answer
    refund_submit(refund_id=refund.pk)
    refund.refresh_from_db()
    assert Refund.objects.count() == 1
    assert (refund.refund_id, refund.status) == ("re_1", "succeeded")
    assert paid_order.events.filter(type="refund.succeeded").count() == 1
    paid_order.refresh_from_db()
    assert paid_order.status == "refunded"


def test_cancel_unpaid_cancels_the_intent_and_releases_stock(staff, fake_stripe):
    product = make_product(stock_on_hand=2)
    order = make_order(status="awaiting_payment", product=product, quantity=2)
    make_payment(order, intent_id="pi_open", method="konbini", status="requires_action")
    fake_stripe.responder = lambda r: (200, payment_intent_json(id="pi_open", status="canceled"))
    order = order_cancel_unpaid(order_id=order.pk, cause=Cause.staff(staff), reason="customer asked")
    assert order.status == "cancelled"
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents/pi_open/cancel"]
    assert Product.objects.get(pk=product.pk).stock_available == 2


def test_cancel_refused_for_paid_orders_and_when_paid_meanwhile(paid_order, staff, fake_stripe):
    with pytest.raises(ActionNotAllowed, match="Refund it instead"):
        order_cancel_unpaid(order_id=paid_order.pk, cause=Cause.staff(staff), reason="")
    order = make_order(status="awaiting_payment")
    make_payment(order, intent_id="pi_race", method="konbini", status="requires_action")

    def responder(request):
        if request.path.endswith("/cancel"):
            return 400, {"error": {"type": "invalid_request_error", "code": "payment_intent_unexpected_state"}}
        return 200, payment_intent_json(
            id="pi_race", status="succeeded", amount=order.total_amount, amount_received=order.total_amount
        )

    fake_stripe.responder = responder
    with pytest.raises(ActionNotAllowed, match="paid meanwhile"):
        order_cancel_unpaid(order_id=order.pk, cause=Cause.staff(staff), reason="")
    order.refresh_from_db()
    assert order.status == "paid"


def test_fulfilment_path_commits_stock_and_records_the_shipment(paid_order, staff):
    product = paid_order.lines.get().product
    order_start_fulfilment(order_id=paid_order.pk, cause=Cause.system("workflow"))
    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved) == (1, 0)
    order_request_approval(order_id=paid_order.pk, cause=Cause.system("workflow"), reasons=["amount_over_threshold"])
    order_approve(order_id=paid_order.pk, cause=Cause.staff(staff))
    with pytest.raises(ActionNotAllowed, match="carrier and a tracking number"):
        order_mark_shipped(order_id=paid_order.pk, cause=Cause.staff(staff), carrier=" ", tracking_number="1")
    order_mark_shipped(order_id=paid_order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1234-5678")
    order_mark_shipped(order_id=paid_order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1234-5678")
    assert Shipment.objects.count() == 1
    order = order_mark_delivered(order_id=paid_order.pk, cause=Cause.staff(staff))
    assert order.status == "delivered"
    assert list(order.events.values_list("to_status", flat=True)) == [
        "fulfilling",
        "awaiting_approval",
        "fulfilling",
        "shipped",
        "delivered",
    ]
    with pytest.raises(ActionNotAllowed, match="not waiting for approval"):
        order_approve(order_id=paid_order.pk, cause=Cause.staff(staff))


def test_refund_requested_while_stripe_was_down_is_submitted_by_the_sweep(paid_order, staff, fake_stripe, settings):
    import datetime as dt

    from orders.tasks import submit_requested_refunds
    from payops.stripe.gateway import GatewayUnavailable

    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(GatewayUnavailable):
        order_refund(order_id=paid_order.pk, amount=1000, reason="", cause=Cause.staff(staff), request_key="k")
    settings.STRIPE_API_BASE = base
    Refund.objects.update(created_at=Refund.objects.get().created_at - dt.timedelta(minutes=5))
    fake_stripe.responder = refund_answer
    assert submit_requested_refunds.apply().result == 1
    assert Refund.objects.get().status == "succeeded"
    assert fake_stripe.requests[0].idempotency_key == f"payops:refund:{Refund.objects.get().pk}"
