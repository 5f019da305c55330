"""The order lifecycle as the business states it (README.md "Order lifecycle", ADR 0004).

Written as statements with their reasons, deliberately *not* computed from ``TRANSITIONS``:
``tests/orders/test_state_machine.py`` checks the code against it, and the event-order property
tests check every path an order takes against it.
"""

# The statuses, with the name staff read on the dashboard (README.md, "Order lifecycle").
STATUSES = {
    "pending_payment": "Pending payment",
    "awaiting_payment": "Awaiting payment",
    "paid": "Paid",
    "fulfilling": "Fulfilling",
    "awaiting_approval": "Awaiting approval",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "completed": "Completed",
    "payment_failed": "Payment failed",
    "expired": "Expired",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "partially_refunded": "Partially refunded",
    "disputed": "Disputed",
    "needs_attention": "Needs attention",
}

# Every allowed move and why it happens. Anything not here is forbidden.
ALLOWED: dict[tuple[str, str], str] = {
    # --- getting paid -------------------------------------------------------------------------
    (
        "pending_payment",
        "awaiting_payment",
    ): "a konbini voucher is issued, transfer instructions shown or 3-D Secure asked",
    ("pending_payment", "paid"): "a card is paid at checkout without a further step",
    ("pending_payment", "payment_failed"): "the card is declined at checkout",
    ("pending_payment", "expired"): "the shopper never confirmed the payment; stock is released",
    ("pending_payment", "cancelled"): "the shopper or staff cancel before paying",
    ("awaiting_payment", "paid"): "the voucher is paid, the transfer fully funded or 3-D Secure passed",
    ("awaiting_payment", "payment_failed"): "3-D Secure or the payment method fails",
    ("awaiting_payment", "expired"): "the voucher or transfer window passed; stock is released",
    ("awaiting_payment", "cancelled"): "the shopper or staff cancel before paying",
    ("pending_payment", "needs_attention"): "money arrives that does not cover the order (too little, other currency)",
    ("awaiting_payment", "needs_attention"): "money arrives that does not cover the order (too little, other currency)",
    # --- late money after a decline or an expiry (ADR 0004: re-reserve stock, or a person decides)
    ("payment_failed", "awaiting_payment"): "the shopper retries and the new attempt needs a step",
    ("payment_failed", "paid"): "a retried card succeeds after a decline",
    ("payment_failed", "needs_attention"): "money arrives after a decline but the stock is gone",
    ("expired", "paid"): "a late transfer or voucher payment arrives and the stock is still there",
    ("expired", "needs_attention"): "late money arrives and the stock is gone",
    ("cancelled", "needs_attention"): "money arrives for a cancelled order: a person refunds or revives it",
    # --- fulfilment ---------------------------------------------------------------------------
    ("paid", "fulfilling"): "the fulfilment workflow starts on order.paid",
    ("fulfilling", "awaiting_approval"): "the workflow asks a person to approve (review open, large order)",
    ("awaiting_approval", "fulfilling"): "a person approves; fulfilment continues",
    ("fulfilling", "shipped"): "the parcel leaves, or a digital good is delivered",
    # A shipped parcel is not a delivered one (issue 14.5); "completed" remains only for orders
    # closed before "delivered" existed (and a won dispute returning one of them).
    ("shipped", "delivered"): "staff confirm the delivery, or the configured days after shipping pass",
    # --- refunds, before and after shipment ---------------------------------------------------
    ("paid", "refunded"): "refunded in full before fulfilment",
    ("paid", "partially_refunded"): "part refunded before fulfilment",
    ("fulfilling", "refunded"): "refunded in full during fulfilment (compensation refunds too)",
    ("fulfilling", "partially_refunded"): "part refunded during fulfilment",
    ("awaiting_approval", "refunded"): "the approver rejects the order, which refunds it in full",
    ("shipped", "refunded"): "refunded in full after shipment (goods returned)",
    ("shipped", "partially_refunded"): "part refunded after shipment",
    ("delivered", "refunded"): "refunded in full after delivery (goods returned)",
    ("delivered", "partially_refunded"): "part refunded after delivery",
    ("completed", "refunded"): "refunded in full after completion",
    ("completed", "partially_refunded"): "part refunded after completion",
    ("partially_refunded", "partially_refunded"): "a further partial refund",
    ("partially_refunded", "refunded"): "the rest is refunded",
    ("partially_refunded", "fulfilling"): "a partly refunded order still gets the rest of its goods",
    ("partially_refunded", "shipped"): "... and they ship",
    ("partially_refunded", "delivered"): "... and they are delivered",
    # --- disputes (chargebacks), in any paid state, also after shipment or a refund ------------
    ("paid", "disputed"): "the card holder disputes the charge",
    ("fulfilling", "disputed"): "disputed during fulfilment",
    ("awaiting_approval", "disputed"): "disputed while waiting for approval",
    ("shipped", "disputed"): "disputed after shipment",
    ("delivered", "disputed"): "disputed after delivery",
    ("completed", "disputed"): "disputed after completion",
    ("partially_refunded", "disputed"): "disputed after a partial refund",
    ("refunded", "disputed"): "a card holder can dispute even a refunded charge",
    # A won dispute returns the order to where it was; a lost one ends it refunded.
    ("disputed", "paid"): "won, the order was paid",
    ("disputed", "fulfilling"): "won, the order was being fulfilled",
    ("disputed", "awaiting_approval"): "won, the order was waiting for approval",
    ("disputed", "shipped"): "won, the order was shipped",
    ("disputed", "delivered"): "won, the order was delivered",
    ("disputed", "completed"): "won, the order was completed",
    ("disputed", "partially_refunded"): "won, the order was partly refunded",
    ("disputed", "refunded"): "lost (the money went back), or won on a refunded order",
    # --- needs_attention: a person takes over -------------------------------------------------
    ("paid", "needs_attention"): "the workflow failed and compensation ran or could not run",
    ("fulfilling", "needs_attention"): "the workflow failed during fulfilment",
    ("awaiting_approval", "needs_attention"): "the workflow failed while waiting for approval",
    ("partially_refunded", "needs_attention"): "the workflow failed on a partly refunded order",
    ("disputed", "needs_attention"): "the workflow failed while a dispute is open",
    # ... and every way out of it, each a person's decision.
    ("needs_attention", "paid"): "the person confirms the money and the stock: start again from paid",
    ("needs_attention", "fulfilling"): "the person restarts fulfilment",
    ("needs_attention", "shipped"): "the person shipped it by hand",
    ("needs_attention", "refunded"): "the person refunds it",
    ("needs_attention", "cancelled"): "nothing was taken or all is settled: the person cancels it",
}

# The forbidden moves that a wrong table is most likely to allow, and why they are wrong.
FORBIDDEN: dict[tuple[str, str], str] = {
    ("awaiting_approval", "shipped"): "approval is never skipped: only a person's approval leads on",
    ("awaiting_approval", "partially_refunded"): "a partial refund must not end the wait for approval "
    "(partially_refunded may ship)",
    ("paid", "shipped"): "nothing ships without fulfilment",
    ("paid", "awaiting_approval"): "approval is asked by the running fulfilment",
    ("pending_payment", "shipped"): "nothing ships unpaid",
    ("awaiting_payment", "fulfilling"): "nothing is fulfilled unpaid",
    ("pending_payment", "refunded"): "nothing to refund before money arrived",
    ("awaiting_payment", "disputed"): "nothing to dispute before money arrived",
    ("cancelled", "paid"): "money on a cancelled order goes to a person, never silently to paid",
    ("cancelled", "awaiting_payment"): "a cancelled order takes no new payment",
    ("expired", "awaiting_payment"): "an expired window is not reopened",
    ("payment_failed", "expired"): "a failed payment already released its stock",
    ("payment_failed", "cancelled"): "a failed payment already released its stock; late money may still come",
    ("paid", "pending_payment"): "money taken is never un-taken by a status",
    ("paid", "expired"): "a paid order never expires",
    ("paid", "cancelled"): "a paid order is refunded, not cancelled",
    ("fulfilling", "cancelled"): "a paid order is refunded, not cancelled",
    ("shipped", "cancelled"): "shipped goods cannot be cancelled",
    ("shipped", "fulfilling"): "shipment is not undone",
    ("shipped", "needs_attention"): "after shipment a problem is a refund or a dispute",
    ("shipped", "completed"): "a shipped parcel is not a delivered one: delivery comes first",
    ("delivered", "shipped"): "a delivery is not undone",
    ("delivered", "needs_attention"): "after delivery a problem is a refund or a dispute",
    ("fulfilling", "delivered"): "nothing is delivered before it ships",
    ("completed", "paid"): "completion is not undone",
    ("completed", "needs_attention"): "after completion a problem is a refund or a dispute",
    ("refunded", "paid"): "a refunded order is over; only a dispute can still follow",
    ("refunded", "partially_refunded"): "refunds only grow",
    ("refunded", "fulfilling"): "a refunded order is not fulfilled",
    ("needs_attention", "completed"): "completion needs a shipment first",
    ("needs_attention", "partially_refunded"): "a partial refund leaves the order with the person",
    ("needs_attention", "disputed"): "a dispute on an order with a person stays with that person",
    ("paid", "paid"): "a repeat of the same news is not a move",
    ("disputed", "disputed"): "a second dispute is not a move",
}

# Statuses in which stock is held for an order nobody has paid yet.
UNPAID = {"pending_payment", "awaiting_payment"}
# Statuses in which the order holds money taken from the shopper.
MONEY_HELD = {
    "paid",
    "fulfilling",
    "awaiting_approval",
    "shipped",
    "delivered",
    "completed",
    "partially_refunded",
    "disputed",
}
