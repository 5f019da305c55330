import pytest

from orders.catalogue import StockLevel, orderable_quantity, stock_level
from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("on_hand", "reserved", "level"),
    [
        (9999, 0, StockLevel.IN_STOCK),
        (6, 0, StockLevel.IN_STOCK),
        (8, 3, StockLevel.LOW),  # 5 available: at the threshold
        (1, 0, StockLevel.LOW),
        (3, 3, StockLevel.OUT_OF_STOCK),
        (0, 0, StockLevel.OUT_OF_STOCK),
    ],
)
def test_stock_level_from_what_is_available(settings, on_hand, reserved, level):
    settings.PAYOPS_LOW_STOCK_THRESHOLD = 5
    assert stock_level(make_product(stock_on_hand=on_hand, stock_reserved=reserved)) == level


def test_orderable_quantity_is_capped_by_the_line_limit(settings):
    settings.PAYOPS_MAX_LINE_QUANTITY = 99
    assert orderable_quantity(make_product(stock_on_hand=9999)) == 99
    assert orderable_quantity(make_product(stock_on_hand=4, stock_reserved=1)) == 3
