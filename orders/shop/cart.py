"""The shopper's cart, kept in the session: SKU -> quantity, checked against the catalogue on every read.

Nothing is reserved until checkout: the cart only remembers what the shopper wants. Each read
prices it again with today's products, and says what changed since (a product no longer sold,
less stock than the shopper asked for) instead of failing at the last step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext as _

from orders.catalogue import orderable_quantity, product_on_sale, products_on_sale
from orders.errors import OrderError
from orders.models import Product
from orders.pricing import PricedCart, price_cart
from orders.services.checkout import CartItem

SESSION_KEY = "payops_cart"


class CartError(OrderError):
    """A cart change the shop refuses; ``message`` is already in the shopper's words and language."""

    code = "cart_error"


@dataclass(frozen=True)
class CartView:
    priced: PricedCart | None
    notices: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.priced is None

    @property
    def item_count(self) -> int:
        return self.priced.item_count if self.priced else 0


class SessionCart:
    def __init__(self, session: SessionBase) -> None:
        self.session = session

    def quantities(self) -> dict[str, int]:
        raw: Any = self.session.get(SESSION_KEY, {})
        if not isinstance(raw, dict):
            return {}
        return {str(sku): int(qty) for sku, qty in raw.items() if isinstance(qty, int) and qty > 0}

    def add(self, *, sku: str, quantity: int) -> Product:
        product = product_on_sale(sku=sku)
        if product is None:
            raise CartError(_("This product is no longer sold."), field="sku")
        quantities = self.quantities()
        if sku not in quantities and len(quantities) >= settings.PAYOPS_MAX_CHECKOUT_ITEMS:
            raise CartError(_("Your cart is full. Please place this order first."), field="quantity")
        wanted = quantities.get(sku, 0) + quantity
        _ensure_orderable(product, wanted, field_name="quantity")
        quantities[sku] = wanted
        self._save(quantities)
        return product

    def set_quantities(self, changes: dict[str, int]) -> None:
        """Set several lines at once (0 removes a line); refuses all of them if one is not orderable."""
        quantities = self.quantities()
        products = {p.sku: p for p in products_on_sale().filter(sku__in=changes)}
        for sku, quantity in changes.items():
            if quantity <= 0:
                quantities.pop(sku, None)
                continue
            product = products.get(sku)
            if product is None:
                quantities.pop(sku, None)
                continue
            _ensure_orderable(product, quantity, field_name=f"qty_{sku}")
            quantities[sku] = quantity
        self._save(quantities)

    def remove(self, sku: str) -> None:
        quantities = self.quantities()
        quantities.pop(sku, None)
        self._save(quantities)

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)

    def items(self) -> list[CartItem]:
        return [CartItem(sku=sku, quantity=quantity) for sku, quantity in self.quantities().items()]

    def view(self, *, locale: str) -> CartView:
        """The cart as it stands against today's catalogue, trimmed to what can be ordered."""
        quantities = self.quantities()
        if not quantities:
            return CartView(priced=None)
        products = {p.sku: p for p in products_on_sale().filter(sku__in=quantities)}
        notices: list[str] = []
        lines: list[tuple[Product, int]] = []
        kept: dict[str, int] = {}
        for sku, quantity in quantities.items():
            product = products.get(sku)
            if product is None:
                notices.append(_("An item in your cart is no longer sold and was removed."))
                continue
            orderable = orderable_quantity(product)
            name = product.display_name(locale)
            if orderable == 0:
                notices.append(_("“%(name)s” is out of stock and was removed from your cart.") % {"name": name})
                continue
            if quantity > orderable:
                notices.append(
                    _("Only %(count)d of “%(name)s” can be ordered now; your cart was changed to %(count)d.")
                    % {"count": orderable, "name": name}
                )
                quantity = orderable
            lines.append((product, quantity))
            kept[sku] = quantity
        if kept != quantities:
            self._save(kept)
        lines.sort(key=lambda line: line[0].sku)
        return CartView(priced=price_cart(lines) if lines else None, notices=notices)

    def _save(self, quantities: dict[str, int]) -> None:
        self.session[SESSION_KEY] = quantities


def _ensure_orderable(product: Product, quantity: int, *, field_name: str) -> None:
    orderable = orderable_quantity(product)
    if orderable == 0:
        raise CartError(_("Sorry, this product is out of stock."), field=field_name)
    if quantity > orderable:
        raise CartError(
            _("You can order up to %(count)d of this product.") % {"count": orderable},
            field=field_name,
        )
