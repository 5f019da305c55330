import threading

import pytest
from django.db import connection

from orders import errors
from orders.models import Order, Product
from orders.services.checkout import CartItem, checkout
from tests.factories import make_product
from tests.fakes.stripe_api import payment_intent_json
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_simultaneous_checkouts_for_the_last_five_units(fake_stripe):
    # given 5 units left and a Stripe that answers every intent
    product = make_product(sku="LAST", stock_on_hand=5)
    make_product(sku="OTHER", stock_on_hand=100)
    counter = iter(range(1000))
    fake_stripe.responder = lambda r: (200, payment_intent_json(id=f"pi_conc_{next(counter)}"))
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def shopper(n: int) -> None:
        try:
            barrier.wait()
            # half the shoppers also buy another SKU, listed first: lock order must not deadlock
            items = [CartItem("OTHER", 1), CartItem("LAST", 1)] if n % 2 else [CartItem("LAST", 1)]
            checkout(items=items, email=f"s{n}@example.com", method="card", locale="en")
            outcomes.append("ordered")
        except errors.InsufficientStock:
            outcomes.append("sold_out")
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    # when 20 shoppers check out at the same moment
    threads = [threading.Thread(target=shopper, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly 5 got an order and stock is exactly used up, never negative
    assert sorted(outcomes) == ["ordered"] * 5 + ["sold_out"] * 15
    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved, product.stock_available) == (5, 5, 0)
    assert Order.objects.filter(lines__product=product).count() == 5
    assert Product.objects.get(sku="OTHER").stock_reserved == Order.objects.filter(lines__sku="OTHER").count()


def test_database_refuses_reserving_more_than_on_hand():
    from django.db import IntegrityError
    from django.db.models import F

    product = make_product(stock_on_hand=1)
    with pytest.raises(IntegrityError):
        Product.objects.filter(pk=product.pk).update(stock_reserved=F("stock_reserved") + 2)
