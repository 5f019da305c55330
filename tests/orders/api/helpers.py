"""Orders in the states staff act on, and Stripe's answers to staff actions."""

from __future__ import annotations

from typing import Any

from orders.models import Order
from tests.factories import make_order, make_payment, make_product


def paid_card_order(*, price: int = 5000, quantity: int = 2, **overrides: Any) -> Order:
    order = make_order(
        status=overrides.pop("status", "paid"),
        product=make_product(price_amount=price, stock_on_hand=10),
        quantity=quantity,
        **overrides,
    )
    total = price * quantity
    make_payment(order, intent_id=f"pi_paid_{order.pk}", status="succeeded", amount=total, amount_received=total)
    return order


def refund_answer(request: Any, status: str = "succeeded") -> tuple[int, dict[str, Any]]:
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
