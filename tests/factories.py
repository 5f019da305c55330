"""Plain factory functions for test data."""

from __future__ import annotations

import itertools
from typing import Any

from orders.models import Customer, Order, OrderLine, Payment, Product

_counter = itertools.count(1)


def make_product(**overrides: Any) -> Product:
    n = next(_counter)
    fields: dict[str, Any] = {
        "sku": f"SKU-{n}",
        "name": f"Product {n}",
        "price_amount": 1500,
        "currency": "JPY",
        "stock_on_hand": 10,
    }
    fields.update(overrides)
    return Product.objects.create(**fields)


def make_order(
    *, status: str = "pending_payment", product: Product | None = None, quantity: int = 1, **overrides: Any
) -> Order:
    """An order whose stock is reserved, as checkout leaves it."""
    product = product or make_product()
    customer, _ = Customer.objects.get_or_create(email=overrides.pop("email", "shopper@example.com"))
    order = Order.objects.create(
        customer=customer,
        status=status,
        currency=product.currency,
        total_amount=product.price_amount * quantity,
        **overrides,
    )
    OrderLine.objects.create(
        order=order,
        product=product,
        sku=product.sku,
        name=product.name,
        unit_price_amount=product.price_amount,
        quantity=quantity,
    )
    Product.objects.filter(pk=product.pk).update(stock_reserved=product.stock_reserved + quantity)
    return order


def make_payment(order: Order, **overrides: Any) -> Payment:
    fields: dict[str, Any] = {
        "order": order,
        "intent_id": f"pi_test_{order.pk}",
        "method": "card",
        "amount": order.total_amount,
        "currency": order.currency,
        "status": "requires_payment_method",
    }
    fields.update(overrides)
    return Payment.objects.create(**fields)
