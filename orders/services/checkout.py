"""Checkout: turn a cart into an order holding stock, then set up its payment with Stripe.

Two steps, deliberately in two transactions: the order and its stock reservation commit first
(short row locks), then the PaymentIntent is created outside any lock. Stripe's idempotency key
comes from the order, so the stripe library's retries never make a second PaymentIntent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from orders.errors import (
    InvalidCart,
    PaymentDeclinedAtCheckout,
    PaymentMethodNotAvailable,
    PaymentNotTaken,
    PaymentProviderUnavailable,
    UnknownProduct,
)
from orders.models import Customer, Order, OrderLine, Payment, Product
from orders.models.payments import PAYMENT_CREATING, PAYMENT_SETUP_FAILED, PaymentMethod
from orders.pricing import price_cart
from orders.services.order_events import Cause, record_order_event
from orders.services.payments import payment_apply_intent, payment_expiry_for
from orders.services.stock import lock_products, reserve_stock
from orders.services.transitions import order_mark_payment_failed
from orders.state_machine import OrderStatus
from payops.money import Money
from payops.stripe.gateway import (
    KONBINI_MAX_JPY,
    KONBINI_MIN_JPY,
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentIntentData,
    StripeGateway,
    get_gateway,
)

logger = logging.getLogger(__name__)

# The reason code of a payment that could not be set up and is not worth retrying as it was.
SETUP_FAILED = "payment_setup_failed"
# PaymentIntent statuses in which money has moved or is moving.
MONEY_MOVED = frozenset({"succeeded", "processing", "requires_capture"})


@dataclass(frozen=True)
class CartItem:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    payment: Payment


def shopper_payment_methods() -> tuple[PaymentMethod, ...]:
    """The payment methods a shopper may choose; the shop form, the API and checkout all ask here.

    "Paid outside Stripe" is not one: staff record it when money arrived another way, and no
    PaymentIntent can be made for it.
    """
    return (PaymentMethod.CARD, PaymentMethod.KONBINI, PaymentMethod.BANK_TRANSFER)


def ensure_method_available(*, method: str, total: Money) -> None:
    """Refuse a payment method shoppers may not use, or the order's currency or amount cannot."""
    if method not in shopper_payment_methods():
        raise PaymentMethodNotAvailable(f"payment method {method!r} is not available", field="payment_method")
    if method in (PaymentMethod.KONBINI, PaymentMethod.BANK_TRANSFER) and total.currency != "JPY":
        raise PaymentMethodNotAvailable(
            f"{method} is only available for JPY orders, this order is in {total.currency}", field="payment_method"
        )
    if method == PaymentMethod.KONBINI and not KONBINI_MIN_JPY <= total.amount <= KONBINI_MAX_JPY:
        raise PaymentMethodNotAvailable(
            f"konbini payments must be between ¥{KONBINI_MIN_JPY:,} and ¥{KONBINI_MAX_JPY:,}; "
            f"this order is {total.format()}",
            field="payment_method",
        )


def checkout(
    *,
    items: Sequence[CartItem],
    email: str,
    method: str,
    locale: str,
    payment_method_id: str = "",
    idempotency_key: str = "",
    gateway: StripeGateway | None = None,
) -> CheckoutResult:
    """Make the order (holding its stock), then its PaymentIntent.

    ``idempotency_key`` (names the client's Idempotency-Key claim) is written with the order: a
    retry with it continues that order (the PaymentIntent is created, or fetched, with the same
    Stripe idempotency key) instead of making a second one. Such an order is therefore not
    released when the payment cannot be set up for a reason a retry may fix; if no retry comes,
    ``checkout_settle_abandoned`` settles it within minutes (orders/services/checkout_recovery.py).
    """
    bound = _order_bound_to(idempotency_key) if idempotency_key else None
    if bound is None:
        try:
            bound = _create_order_reserving_stock(
                items=items, email=email, method=method, locale=locale, checkout_key=idempotency_key or None
            )
        except IntegrityError:
            bound = _order_bound_to(idempotency_key) if idempotency_key else None
            if bound is None:
                raise
    order, payment = bound
    if not checkout_unfinished(order, payment):
        return _outcome_of(order, payment)
    return set_up_order_payment(
        order,
        payment,
        method=payment.method,
        payment_method_id=payment_method_id,
        gateway=gateway or get_gateway(),
        idempotency_key=payment_intent_idempotency_key(order, payment),
        resumable=bool(idempotency_key),
    )


def checkout_unfinished(order: Order, payment: Payment) -> bool:
    """The order was written but its PaymentIntent never reached it (the request failed between)."""
    return order.status == OrderStatus.PENDING_PAYMENT and payment.status == PAYMENT_CREATING and not payment.intent_id


def payment_intent_idempotency_key(order: Order, payment: Payment) -> str:
    """Stripe's idempotency key for a payment's PaymentIntent: every attempt of it sends the same
    one, so Stripe answers a repeat with the intent it made the first time. The order's first
    payment (made by checkout) has the short form; a payment made to pay again names itself."""
    first = order.payments.order_by("pk").values_list("pk", flat=True).first()
    if payment.pk == first:
        return f"payops:{order.number}:payment-intent"
    return f"payops:{order.number}:payment-intent:{payment.pk}"


def _order_bound_to(key: str) -> tuple[Order, Payment] | None:
    order = Order.objects.select_related("customer").filter(checkout_key=key).first()
    if order is None:
        return None
    return order, order.payments.order_by("pk")[0]


def _outcome_of(order: Order, payment: Payment) -> CheckoutResult:
    """What an earlier attempt with the same key came to, answered as that attempt would have been."""
    if order.status != OrderStatus.PAYMENT_FAILED:
        return CheckoutResult(order=order, payment=payment)
    if payment.status == PAYMENT_SETUP_FAILED:
        raise PaymentProviderUnavailable(
            "the payment could not be set up; nothing was charged", order=order, reason_code=SETUP_FAILED
        )
    raise PaymentDeclinedAtCheckout(
        payment.failure_message or "the payment was declined", order=order, reason_code=payment.failure_code
    )


def set_up_order_payment(
    order: Order,
    payment: Payment,
    *,
    method: str,
    payment_method_id: str,
    gateway: StripeGateway,
    idempotency_key: str,
    resumable: bool = False,
) -> CheckoutResult:
    """Create the PaymentIntent for a written order's ``creating`` payment (checkout, or paying again).

    Whatever fails, the order is not left half-made: it ends ``payment_failed`` with its stock
    released, and the error says so (``PaymentNotTaken``) — unless it is ``resumable``: a client
    retrying with its Idempotency-Key continues it, or the sweep settles it.
    """
    try:
        return _set_up_payment(
            order,
            payment,
            method=method,
            payment_method_id=payment_method_id,
            gateway=gateway,
            idempotency_key=idempotency_key,
            resumable=resumable,
        )
    except (PaymentNotTaken, PaymentNotRecorded):
        raise
    except Exception as exc:
        if resumable:
            # The database failed, a deadlock, a bug: a retry with the key continues this order.
            logger.exception("checkout of %s failed after the order was written; it waits for a retry", order.number)
            raise
        # Whatever went wrong (a bug, an answer we cannot read), the order must not stay
        # half-made holding stock: release it, then let the error be seen.
        logger.exception("checkout of %s failed after the order was written; releasing it", order.number)
        order = checkout_fail(order, code=SETUP_FAILED, message=f"{type(exc).__name__}: {exc}"[:500])
        raise PaymentProviderUnavailable(
            "the payment could not be set up; nothing was charged", order=order, reason_code=SETUP_FAILED
        ) from exc


def create_payment_intent_for(
    order: Order, *, method: str, payment_method_id: str, gateway: StripeGateway, idempotency_key: str
) -> PaymentIntentData:
    """The same request to Stripe on every attempt, so Stripe answers a repeat with the first intent."""
    bank_transfer = method == PaymentMethod.BANK_TRANSFER
    return gateway.create_payment_intent(
        amount=order.total,
        method=method,
        email=order.customer.email,
        customer_id=_stripe_customer_id(order.customer, gateway) if bank_transfer else "",
        payment_method_id=payment_method_id,
        return_url=order.status_url,
        metadata={"order_number": order.number, "order_id": str(order.pk)},
        idempotency_key=idempotency_key,
    )


def _set_up_payment(
    order: Order,
    payment: Payment,
    *,
    method: str,
    payment_method_id: str,
    gateway: StripeGateway,
    idempotency_key: str,
    resumable: bool,
) -> CheckoutResult:
    try:
        intent = create_payment_intent_for(
            order, method=method, payment_method_id=payment_method_id, gateway=gateway, idempotency_key=idempotency_key
        )
    except PaymentDeclined as exc:
        if exc.intent is not None:
            payment_apply_intent(payment_id=payment.pk, intent=exc.intent, cause=Cause.customer("checkout"))
        order = checkout_fail(order, code=exc.decline_code or exc.code, message=str(exc))
        raise PaymentDeclinedAtCheckout(str(exc), order=order, reason_code=exc.decline_code or exc.code) from exc
    except GatewayUnavailable as exc:
        if not resumable:
            order = checkout_fail(order, code="payment_provider_unavailable", message=str(exc))
        raise PaymentProviderUnavailable(
            "the payment provider could not be reached; nothing was charged, please try again",
            order=order,
            reason_code="payment_provider_unavailable",
        ) from exc
    except GatewayError as exc:
        logger.error("stripe refused the PaymentIntent for %s: %s", order.number, exc)
        order = checkout_fail(order, code=exc.code or SETUP_FAILED, message=str(exc))
        raise PaymentProviderUnavailable(
            "the payment could not be set up; nothing was charged", order=order, reason_code=SETUP_FAILED
        ) from exc
    try:
        payment = _apply_checkout_intent(payment_id=payment.pk, intent=intent)
    except Exception as exc:
        if resumable:
            raise  # a retry with the key gets the same intent and records it
        if intent.status in MONEY_MOVED:
            # Money was taken: the order must not be released as unpaid. Stripe's webhook for
            # this intent links it to the payment (by the order id in its metadata).
            raise PaymentNotRecorded(intent.id) from exc
        # The order is about to be released: the voucher or instructions Stripe made for it
        # must not stay payable.
        _cancel_quietly(intent, order=order, gateway=gateway)
        raise
    order.refresh_from_db()
    return CheckoutResult(order=order, payment=payment)


class PaymentNotRecorded(Exception):
    """Stripe took the money but payops could not record it; its webhook will."""


def _cancel_quietly(intent: PaymentIntentData, *, order: Order, gateway: StripeGateway) -> None:
    if intent.status == "canceled":
        return
    try:
        gateway.cancel_payment_intent(intent.id, idempotency_key=f"payops:{order.number}:cancel-unrecorded:{intent.id}")
    except GatewayError:
        logger.exception("could not cancel PaymentIntent %s of released order %s", intent.id, order.number)


def _apply_checkout_intent(*, payment_id: int, intent: PaymentIntentData) -> Payment:
    """Record the intent Stripe made. The database connection sat idle while Stripe answered;
    if the database dropped it meanwhile (a restart, a failover), apply once more on a new
    connection rather than fail the shopper (applying the same intent again changes nothing)."""
    try:
        return payment_apply_intent(payment_id=payment_id, intent=intent, cause=Cause.customer("checkout"))
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.warning("database connection lost while Stripe answered; applying %s on a new one", intent.id)
        connection.close()
        return payment_apply_intent(payment_id=payment_id, intent=intent, cause=Cause.customer("checkout"))


def _validate_cart(items: Sequence[CartItem]) -> dict[str, int]:
    if not items:
        raise InvalidCart("the cart is empty", field="items")
    quantities: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.sku in quantities:
            raise InvalidCart(f"SKU {item.sku!r} appears more than once", field=f"items[{index}].sku")
        if item.quantity < 1:
            raise InvalidCart("quantity must be at least 1", field=f"items[{index}].quantity")
        quantities[item.sku] = item.quantity
    return quantities


@transaction.atomic
def _create_order_reserving_stock(
    *, items: Sequence[CartItem], email: str, method: str, locale: str, checkout_key: str | None = None
) -> tuple[Order, Payment]:
    quantities_by_sku = _validate_cart(items)
    ids_by_sku = dict(Product.objects.filter(sku__in=quantities_by_sku, is_active=True).values_list("sku", "pk"))
    unknown = sorted(set(quantities_by_sku) - set(ids_by_sku))
    if unknown:
        raise UnknownProduct(f"unknown SKU: {', '.join(unknown)}", field="items")
    products = lock_products(sorted(ids_by_sku.values()))
    lines = [(products[ids_by_sku[sku]], quantity) for sku, quantity in quantities_by_sku.items()]
    total = price_cart(lines).total
    ensure_method_available(method=method, total=total)
    reserve_stock(products=products, quantities={product.pk: quantity for product, quantity in lines})

    customer, _ = Customer.objects.get_or_create(email=email.strip().lower(), defaults={"preferred_language": locale})
    order = Order.objects.create(
        customer=customer,
        currency=total.currency,
        total_amount=total.amount,
        locale=locale,
        payment_expires_at=payment_expiry_for(method=method, intent=None, now=timezone.now()),
        checkout_key=checkout_key,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=product,
            sku=product.sku,
            name=product.display_name(locale),
            unit_price_amount=product.price_amount,
            quantity=quantity,
        )
        for product, quantity in lines
    )
    payment = Payment.objects.create(
        order=order, method=method, amount=total.amount, currency=total.currency, status=PAYMENT_CREATING
    )
    record_order_event(
        order=order,
        type="order.created",
        cause=Cause.customer("checkout"),
        to_status=order.status,
        data={"total": total.as_json(), "method": method, "lines": len(lines)},
    )
    return order, payment


def _stripe_customer_id(customer: Customer, gateway: StripeGateway) -> str:
    """Bank transfers credit a Stripe Customer's balance, so the shopper needs one."""
    if not customer.stripe_customer_id:
        customer.stripe_customer_id = gateway.create_customer(
            email=customer.email, idempotency_key=f"payops:customer:{customer.pk}"
        )
        Customer.objects.filter(pk=customer.pk).update(stripe_customer_id=customer.stripe_customer_id)
    return customer.stripe_customer_id


@transaction.atomic
def checkout_fail(order: Order, *, code: str, message: str, cause: Cause | None = None) -> Order:
    """Release an order whose payment could not be set up: payment_failed, stock given back."""
    # A payment that never got its PaymentIntent must not look as if it were still being made.
    Payment.objects.filter(order=order, status=PAYMENT_CREATING, intent_id__isnull=True).update(
        status=PAYMENT_SETUP_FAILED, failure_code=code[:64], failure_message=message[:500]
    )
    order.refresh_from_db(fields=["status"])
    if order.status == "payment_failed":  # applying the declined intent already moved it
        return order
    return order_mark_payment_failed(
        order_id=order.pk, cause=cause or Cause.customer("checkout"), reason_code=code, reason_message=message
    )
