"""What a cart costs: the one function that adds up money for a cart.

Checkout charges what this returns and the shop's review step shows the same figures, so the
amount a shopper confirms is the amount charged. Prices are tax-inclusive (総額表示); delivery
fees and the consumption-tax breakdown per rate join here when orders grow them (issue 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orders.errors import InvalidCart
from orders.models import Product
from payops.money import Money


@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Money:
        return self.product.price

    @property
    def total(self) -> Money:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]
    total: Money

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def price_cart(lines: Sequence[tuple[Product, int]]) -> PricedCart:
    """Price ``(product, quantity)`` pairs; every product must share one currency."""
    if not lines:
        raise InvalidCart("the cart is empty", field="items")
    currencies = {product.currency for product, _ in lines}
    if len(currencies) > 1:
        raise InvalidCart(f"items are priced in different currencies: {', '.join(sorted(currencies))}", field="items")
    priced = tuple(PricedLine(product=product, quantity=quantity) for product, quantity in lines)
    total = Money.zero(currencies.pop())
    for line in priced:
        total = total + line.total
    return PricedCart(lines=priced, total=total)
