"""Checkout: turn a cart into an order holding stock, then set up its payment with Stripe.

Two steps, deliberately in two transactions: the order and its stock reservation commit first
(short row locks), then the PaymentIntent is created outside any lock. Stripe's idempotency key
comes from the order, so the stripe library's retries never make a second PaymentIntent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
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
from payops.money import Money
from payops.stripe.gateway import (
    KONBINI_MAX_JPY,
    KONBINI_MIN_JPY,
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    StripeGateway,
    get_gateway,
)

logger = logging.getLogger(__name__)

# The reason code of a payment that could not be set up and is not worth retrying as it was.
SETUP_FAILED = "payment_setup_failed"


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
    gateway: StripeGateway | None = None,
) -> CheckoutResult:
    order, payment = _create_order_reserving_stock(items=items, email=email, method=method, locale=locale)
    return set_up_order_payment(
        order,
        payment,
        method=method,
        payment_method_id=payment_method_id,
        gateway=gateway or get_gateway(),
        idempotency_key=f"payops:{order.number}:payment-intent",
    )


def set_up_order_payment(
    order: Order,
    payment: Payment,
    *,
    method: str,
    payment_method_id: str,
    gateway: StripeGateway,
    idempotency_key: str,
) -> CheckoutResult:
    """Create the PaymentIntent for a written order's ``creating`` payment (checkout, or paying again).

    Whatever fails, the order is not left half-made: it ends ``payment_failed`` with its stock
    released, and the error says so (``PaymentNotTaken``).
    """
    try:
        return _set_up_payment(
            order,
            payment,
            method=method,
            payment_method_id=payment_method_id,
            gateway=gateway,
            idempotency_key=idempotency_key,
        )
    except PaymentNotTaken:
        raise
    except Exception as exc:
        # Whatever went wrong (a bug, an answer we cannot read), the order must not stay
        # half-made holding stock: release it, then let the error be seen.
        logger.exception("checkout of %s failed after the order was written; releasing it", order.number)
        order = _fail_order(order, code=SETUP_FAILED, message=f"{type(exc).__name__}: {exc}"[:500])
        raise PaymentProviderUnavailable(
            "the payment could not be set up; nothing was charged", order=order, reason_code=SETUP_FAILED
        ) from exc


def _set_up_payment(
    order: Order, payment: Payment, *, method: str, payment_method_id: str, gateway: StripeGateway, idempotency_key: str
) -> CheckoutResult:
    try:
        intent = gateway.create_payment_intent(
            amount=order.total,
            method=method,
            email=order.customer.email,
            customer_id=_stripe_customer_id(order.customer, gateway) if method == PaymentMethod.BANK_TRANSFER else "",
            payment_method_id=payment_method_id,
            return_url=order.status_url,
            metadata={"order_number": order.number, "order_id": str(order.pk)},
            idempotency_key=idempotency_key,
        )
    except PaymentDeclined as exc:
        if exc.intent is not None:
            payment_apply_intent(payment_id=payment.pk, intent=exc.intent, cause=Cause.customer("checkout"))
        order = _fail_order(order, code=exc.decline_code or exc.code, message=str(exc))
        raise PaymentDeclinedAtCheckout(str(exc), order=order, reason_code=exc.decline_code or exc.code) from exc
    except GatewayUnavailable as exc:
        order = _fail_order(order, code="payment_provider_unavailable", message=str(exc))
        raise PaymentProviderUnavailable(
            "the payment provider could not be reached; nothing was charged, please try again",
            order=order,
            reason_code="payment_provider_unavailable",
        ) from exc
    except GatewayError as exc:
        logger.error("stripe refused the PaymentIntent for %s: %s", order.number, exc)
        order = _fail_order(order, code=exc.code or SETUP_FAILED, message=str(exc))
        raise PaymentProviderUnavailable(
            "the payment could not be set up; nothing was charged", order=order, reason_code=SETUP_FAILED
        ) from exc
    payment = payment_apply_intent(payment_id=payment.pk, intent=intent, cause=Cause.customer("checkout"))
    order.refresh_from_db()
    return CheckoutResult(order=order, payment=payment)


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
    *, items: Sequence[CartItem], email: str, method: str, locale: str
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
def _fail_order(order: Order, *, code: str, message: str) -> Order:
    # A payment that never got its PaymentIntent must not look as if it were still being made.
    Payment.objects.filter(order=order, status=PAYMENT_CREATING, intent_id__isnull=True).update(
        status=PAYMENT_SETUP_FAILED, failure_code=code[:64], failure_message=message[:500]
    )
    order.refresh_from_db(fields=["status"])
    if order.status == "payment_failed":  # applying the declined intent already moved it
        return order
    return order_mark_payment_failed(
        order_id=order.pk, cause=Cause.customer("checkout"), reason_code=code, reason_message=message
    )
