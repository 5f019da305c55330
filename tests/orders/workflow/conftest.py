from __future__ import annotations

from typing import Any

import pytest

from orders.models import Order, Product
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_paid
from payops.workflow.models import WorkflowExecution
from tests.factories import make_order, make_payment, make_product
from tests.workflow.conftest import clock  # noqa: F401  (the fake clock fixture)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", is_staff=True)


@pytest.fixture
def pay():
    """Check out and pay an order the way Stripe's webhook does; returns (order, execution)."""

    def pay(
        *, price: int = 5000, quantity: int = 2, digital: bool = False, email: str = "shopper@example.com"
    ) -> tuple[Order, WorkflowExecution]:
        product = make_product(price_amount=price, stock_on_hand=10, is_digital=digital)
        order = make_order(status="awaiting_payment", product=product, quantity=quantity, email=email)
        make_payment(
            order,
            intent_id=f"pi_wf_{order.pk}",
            status="succeeded",
            amount=order.total_amount,
            amount_received=order.total_amount,
        )
        order_mark_paid(order_id=order.pk, cause=Cause.webhook(f"evt_paid_{order.pk}"))
        order.refresh_from_db()
        return order, WorkflowExecution.objects.get(order=order)

    return pay


def refund_answer(status: str = "succeeded"):
    """A fake Stripe answering POST /v1/refunds like Stripe does."""

    def answer(request: Any) -> tuple[int, dict[str, Any]]:
        ours = request.params["metadata[payops_refund_id]"]
        return 200, {
            "id": f"re_wf_{ours}",
            "object": "refund",
            "amount": int(request.params["amount"]),
            "currency": "jpy",
            "status": status,
            "payment_intent": request.params["payment_intent"],
            "metadata": {"payops_refund_id": ours},
        }

    return answer


def stock_of(order: Order) -> tuple[int, int]:
    product = Product.objects.get(pk=order.lines.get().product_id)
    return product.stock_on_hand, product.stock_reserved
