"""Stock reservation. Products are always locked in primary-key order so that two checkouts
touching the same SKUs can never deadlock, and the database constraint
``stock_reserved <= stock_on_hand`` makes a negative availability impossible even for a bug."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import F

from orders.errors import InsufficientStock
from orders.models import Order, Product
from orders.models.orders import StockState


def lock_products(product_ids: list[int]) -> dict[int, Product]:
    products = Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk")
    return {product.pk: product for product in products}


def reserve_stock(*, products: Mapping[int, Product], quantities: Mapping[int, int]) -> None:
    """Reserve ``quantities`` (product id -> units) of products the caller has locked."""
    shortages = [
        {"sku": products[pk].sku, "requested": quantity, "available": products[pk].stock_available}
        for pk, quantity in sorted(quantities.items())
        if products[pk].stock_available < quantity
    ]
    if shortages:
        listed = ", ".join(f"{s['sku']} (requested {s['requested']}, available {s['available']})" for s in shortages)
        raise InsufficientStock(f"not enough stock for {listed}", shortages=shortages)
    for pk, quantity in sorted(quantities.items()):
        Product.objects.filter(pk=pk).update(stock_reserved=F("stock_reserved") + quantity)


def release_order_stock(order: Order) -> bool:
    """Give back what a locked order reserved. Idempotent: returns False if nothing was held."""
    if order.stock_state != StockState.RESERVED:
        return False
    quantities = _order_quantities(order)
    lock_products(sorted(quantities))
    for pk, quantity in sorted(quantities.items()):
        Product.objects.filter(pk=pk).update(stock_reserved=F("stock_reserved") - quantity)
    order.stock_state = StockState.RELEASED
    order.save(update_fields=["stock_state", "updated_at"])
    return True


def rereserve_order_stock(order: Order) -> bool:
    """Reserve again for a locked order whose stock was released (money arrived late).

    Returns False, changing nothing, when the stock is no longer there.
    """
    if order.stock_state != StockState.RELEASED:
        return True
    quantities = _order_quantities(order)
    try:
        reserve_stock(products=lock_products(sorted(quantities)), quantities=quantities)
    except InsufficientStock:
        return False
    order.stock_state = StockState.RESERVED
    order.save(update_fields=["stock_state", "updated_at"])
    return True


def _order_quantities(order: Order) -> dict[int, int]:
    return dict(order.lines.values_list("product_id", "quantity"))
