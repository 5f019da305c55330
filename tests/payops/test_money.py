from decimal import Decimal

import pytest

from payops.money import Money, MoneyError, currency_exponent


@pytest.mark.parametrize(("currency", "exponent"), [("JPY", 0), ("USD", 2), ("KWD", 3), ("jpy", 0)])
def test_exponent_per_currency(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("amount", [1.5, 10.0, "100", None, True, Decimal("1")])
def test_non_integer_amounts_are_refused(amount):
    with pytest.raises(MoneyError, match="integer"):
        Money(amount, "JPY")


def test_negative_amount_is_refused():
    with pytest.raises(MoneyError, match="negative"):
        Money(-1, "JPY")


def test_absurd_amount_is_refused():
    with pytest.raises(MoneyError, match="larger"):
        Money(10**15, "JPY")


@pytest.mark.parametrize("currency", ["XXX", "", "yen", 392, None])
def test_unknown_currency_is_refused(currency):
    with pytest.raises(MoneyError):
        Money(100, currency)


def test_currency_code_is_normalised():
    assert Money(100, " usd ").currency == "USD"


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("1500", "JPY", 1500),
        ("15.00", "USD", 1500),
        ("0.01", "USD", 1),
        ("1.234", "KWD", 1234),
        (Decimal("3"), "USD", 300),
    ],
)
def test_from_major(value, currency, minor):
    assert Money.from_major(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(("value", "currency"), [("15.5", "JPY"), ("0.001", "USD"), ("1.2345", "KWD")])
def test_from_major_refuses_more_digits_than_the_currency_has(value, currency):
    with pytest.raises(MoneyError, match="decimal places"):
        Money.from_major(value, currency)


@pytest.mark.parametrize("value", [1.5, "abc", "NaN", "Infinity"])
def test_from_major_refuses_floats_and_non_numbers(value):
    with pytest.raises(MoneyError):
        Money.from_major(value, "USD")


def test_arithmetic_keeps_currency_and_refuses_mixing():
    assert Money(1500, "JPY") + Money(500, "JPY") == Money(2000, "JPY")
    assert Money(1500, "JPY") * 3 == Money(4500, "JPY")
    with pytest.raises(MoneyError, match="combine"):
        Money(1500, "JPY") + Money(500, "USD")
    with pytest.raises(MoneyError):
        Money(100, "JPY") - Money(200, "JPY")
    with pytest.raises(MoneyError):
        Money(100, "JPY") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize(
    ("money", "locale", "text"),
    [
        (Money(1500, "JPY"), "en", "¥1,500"),
        (Money(1500, "JPY"), "ja", "1,500円"),
        (Money(123456, "USD"), "en", "$1,234.56"),
        (Money(123456, "USD"), "ja", "$1,234.56"),
        (Money(1234, "KWD"), "en", "1.234 KWD"),
        (Money(0, "EUR"), "en", "€0.00"),
    ],
)
def test_format(money, locale, text):
    assert money.format(locale) == text


def test_json_shape():
    assert Money(1500, "JPY").as_json() == {"amount": 1500, "currency": "JPY"}
