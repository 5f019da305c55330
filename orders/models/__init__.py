from orders.models.catalog import Product
from orders.models.orders import Customer, Order, OrderEvent, OrderLine
from orders.models.payments import Payment, PaymentMethod, Refund

__all__ = ["Customer", "Order", "OrderEvent", "OrderLine", "Payment", "PaymentMethod", "Product", "Refund"]
