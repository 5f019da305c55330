"""What an order's money says: whether the payments that succeeded cover its total, in its
currency, and by how much they fall short or go over.

One place decides "is this order paid for" for every path that can complete an order (Stripe's
events, money recorded outside Stripe) and for the dashboard that shows the surplus to refund.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orders.models import Order, Payment

# Refunds that have given money back or will unless Stripe turns them down.
_REFUND_COUNTS = ("pending", "requires_action", "succeeded")


@dataclass(frozen=True)
class Coverage:
    currency: str
    due: int  # the order's total, minor units
    received: int  # by succeeded payments in the order's currency
    refunded: int  # of those payments
    paid_payments: int  # succeeded payments in the order's currency
    foreign: tuple[Payment, ...]  # succeeded payments in another currency: never counted

    @property
    def covered(self) -> bool:
        return self.received >= self.due

    @property
    def shortfall(self) -> int:
        return max(self.due - self.received, 0)

    @property
    def surplus(self) -> int:
        """Money held beyond the total: a second payment for an order already paid."""
        return max(self.received - self.refunded - self.due, 0) if self.paid_payments > 1 else 0


def payment_refunded(payment: Payment) -> int:
    """What has been refunded of one payment: Stripe's charge figure, or the refunds we know by
    id if those add up to more (the charge figure can lag behind the refunds)."""
    # In Python over ``refunds.all()``: callers that prefetch the refunds pay no query per payment.
    known = sum(refund.amount for refund in payment.refunds.all() if refund.status in _REFUND_COUNTS)
    return max(payment.amount_refunded, known)


def order_coverage(order: Order, payments: Iterable[Payment] | None = None) -> Coverage:
    """``payments``: the order's payments with their refunds prefetched, if the caller has them."""
    if payments is None:
        payments = order.payments.prefetch_related("refunds")
    succeeded = [p for p in payments if p.status == "succeeded"]
    own = [p for p in succeeded if p.currency == order.currency]
    return Coverage(
        currency=order.currency,
        due=order.total_amount,
        received=sum(p.amount_received for p in own),
        refunded=sum(payment_refunded(p) for p in own),
        paid_payments=len(own),
        foreign=tuple(p for p in succeeded if p.currency != order.currency),
    )
