"""Domain errors raised by the order services; the HTTP edges map them to status codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders.models import Order


class OrderError(Exception):
    """A request the order domain refuses; ``code`` is stable, ``field`` names the input at fault."""

    code = "order_error"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidCart(OrderError):
    code = "invalid_cart"


class UnknownProduct(OrderError):
    code = "unknown_sku"


class InsufficientStock(OrderError):
    code = "insufficient_stock"

    def __init__(self, message: str, *, shortages: list[dict[str, object]]) -> None:
        super().__init__(message, field="items")
        self.shortages = shortages


class PaymentMethodNotAvailable(OrderError):
    code = "payment_method_not_available"


class PaymentNotTaken(OrderError):
    """The order was created but the payment could not be set up; its stock is released."""

    def __init__(self, message: str, *, order: Order, reason_code: str) -> None:
        super().__init__(message)
        self.order = order
        self.reason_code = reason_code


class PaymentDeclinedAtCheckout(PaymentNotTaken):
    code = "payment_declined"


class PaymentProviderUnavailable(PaymentNotTaken):
    code = "payment_provider_unavailable"


class ActionNotAllowed(OrderError):
    """A staff or workflow action the order's current state does not allow; the message says why."""

    code = "action_not_allowed"


class PaymentRetryNotAllowed(OrderError):
    """Paying again is not possible for this order now; ``reason`` says why (stable, for edges)."""

    code = "payment_retry_not_allowed"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
