from orders.models.catalog import Product
from orders.models.orders import Customer, Order, OrderEvent, OrderLine, Shipment
from orders.models.payments import Dispute, Payment, PaymentMethod, Refund

__all__ = [
    "Customer",
    "Dispute",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentMethod",
    "Product",
    "Refund",
    "Shipment",
]
