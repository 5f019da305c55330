"""The order lifecycle: every status and every allowed move between them, in one table.

Services ask ``ensure_transition_allowed`` before they change an order; nothing else decides
which moves are legal. See README.md "Order lifecycle" and ADR 0004.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FULFILLING = "fulfilling", _("Fulfilling")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    DISPUTED = "disputed", _("Disputed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


S = OrderStatus

# from-status -> statuses it may move to. A status missing on the right is a disallowed move.
TRANSITIONS: dict[str, frozenset[str]] = {
    # Money that does not cover the order (too little, another currency) needs a person.
    S.PENDING_PAYMENT: frozenset(
        {S.AWAITING_PAYMENT, S.PAID, S.PAYMENT_FAILED, S.EXPIRED, S.CANCELLED, S.NEEDS_ATTENTION}
    ),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.EXPIRED, S.CANCELLED, S.NEEDS_ATTENTION}),
    # Money can still arrive after we gave up on it (a late bank transfer, a card retried after
    # a decline); it must be recorded, and the order re-reserves stock or needs a person.
    S.PAYMENT_FAILED: frozenset({S.AWAITING_PAYMENT, S.PAID, S.NEEDS_ATTENTION}),
    S.EXPIRED: frozenset({S.PAID, S.NEEDS_ATTENTION}),
    S.CANCELLED: frozenset({S.NEEDS_ATTENTION}),
    S.PAID: frozenset({S.FULFILLING, S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED, S.NEEDS_ATTENTION}),
    S.FULFILLING: frozenset(
        {S.AWAITING_APPROVAL, S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED, S.NEEDS_ATTENTION}
    ),
    S.AWAITING_APPROVAL: frozenset({S.FULFILLING, S.REFUNDED, S.DISPUTED, S.NEEDS_ATTENTION}),
    # A shipped parcel is not a delivered one (ADR 0004): staff confirm the delivery, or it is
    # assumed PAYOPS_DELIVERED_AFTER_DAYS after shipping. COMPLETED is kept for orders closed
    # before DELIVERED existed; nothing moves an order there any more.
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.COMPLETED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.PARTIALLY_REFUNDED: frozenset(
        {S.PARTIALLY_REFUNDED, S.REFUNDED, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.DISPUTED, S.NEEDS_ATTENTION}
    ),
    # A closed dispute returns the order to where it was (won) or ends it (lost); every status
    # that may move to DISPUTED is listed here, or a won dispute could not be applied.
    S.DISPUTED: frozenset(
        {
            S.PAID,
            S.FULFILLING,
            S.AWAITING_APPROVAL,
            S.SHIPPED,
            S.DELIVERED,
            S.COMPLETED,
            S.PARTIALLY_REFUNDED,
            S.REFUNDED,
            S.NEEDS_ATTENTION,
        }
    ),
    S.NEEDS_ATTENTION: frozenset({S.PAID, S.FULFILLING, S.SHIPPED, S.REFUNDED, S.CANCELLED}),
    S.REFUNDED: frozenset({S.DISPUTED}),
}

# Statuses in which the order holds reserved stock that nobody has paid for yet.
UNPAID_STATUSES = frozenset({S.PENDING_PAYMENT, S.AWAITING_PAYMENT})
# Statuses in which money has been taken (at least once).
PAID_STATUSES = frozenset(
    {
        S.PAID,
        S.FULFILLING,
        S.AWAITING_APPROVAL,
        S.SHIPPED,
        S.DELIVERED,
        S.COMPLETED,
        S.PARTIALLY_REFUNDED,
        S.DISPUTED,
    }
)


class TransitionNotAllowed(Exception):
    """A move the transition table does not allow from the order's current status."""

    def __init__(self, current: str, target: str) -> None:
        # str(): an OrderStatus member would otherwise show as "OrderStatus.PAID" in the message.
        current, target = str(current), str(target)
        super().__init__(f"an order in status {current!r} cannot move to {target!r}")
        self.current = current
        self.target = target


def is_transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def ensure_transition_allowed(current: str, target: str) -> None:
    if not is_transition_allowed(current, target):
        raise TransitionNotAllowed(current, target)
