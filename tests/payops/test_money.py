import dataclasses
from decimal import Decimal

import pytest

from payops.money import CURRENCY_EXPONENTS, MAX_AMOUNT, Money, MoneyError, currency_exponent


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


# --- the currency table against its sources ---------------------------------------------------
#
# ISO 4217 minor units (SIX, list one), for the table's currencies and for those Stripe treats
# specially. Written down here, not read from payops.
ISO_4217_MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "SGD": 2,
    "HKD": 2,
    "NZD": 2,
    "HUF": 2,
    "TWD": 2,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
# Stripe's "Supported currencies" page (stripe.com/docs/currencies, zero-decimal and three-decimal
# sections): every other currency is two-decimal in Stripe's API.
STRIPE_ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip
STRIPE_THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}
# Stripe's "special cases": the unit of the API amount is not what ISO 4217 says, or depends on
# the operation. payops stores amounts in the unit Stripe's API takes, so it must not accept these
# until it converts them (see docs/testing.md "Currencies").
STRIPE_SPECIAL_CASES = {
    # two-decimal in Stripe's API (100 = 1 króna, multiples of 100 only) while ISO 4217 has none
    "ISK": "two-decimal in the API, whole krónur only",
    # two-decimal charges, but zero-decimal payouts (multiples of 100)
    "HUF": "payouts in whole forints",
    "TWD": "payouts in whole dollars",
    # listed zero-decimal, and special-cased for backwards compatibility with two-decimal amounts
    "UGX": "zero-decimal with a two-decimal legacy",
}
# The currencies payops sells in (ADR 0002: JPY first; USD/EUR/GBP and the usual card currencies).
SUPPORTED = {
    "JPY", "KRW", "VND", "CLP", "USD", "EUR", "GBP", "AUD", "CAD", "CHF", "SGD", "HKD", "NZD",
    "KWD", "BHD", "JOD", "OMR", "TND",
}  # fmt: skip


def stripe_api_exponent(code):
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    if code in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def test_the_supported_currencies_are_the_listed_ones():
    assert set(CURRENCY_EXPONENTS) == SUPPORTED


@pytest.mark.parametrize("code", sorted(SUPPORTED))
def test_each_currency_counts_minor_units_as_iso_4217_and_stripe_do(code):
    # one amount means the same money to payops, to ISO 4217 and to Stripe's API
    assert CURRENCY_EXPONENTS[code] == ISO_4217_MINOR_UNITS[code] == stripe_api_exponent(code)
    assert currency_exponent(code.lower()) == ISO_4217_MINOR_UNITS[code]
    assert Money(1, code).exponent == ISO_4217_MINOR_UNITS[code]


@pytest.mark.parametrize("code", sorted(STRIPE_SPECIAL_CASES))
def test_currencies_stripe_treats_specially_are_refused(code):
    # 500 ISK would reach Stripe as 5.00 ISK: refuse rather than charge a hundredth
    with pytest.raises(MoneyError, match=f"unknown or unsupported currency '{code}'"):
        Money(500, code)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1500, "JPY"), "¥1,500"),
        (Money(1500, "USD"), "$15.00"),
        (Money(1500, "EUR"), "€15.00"),
        (Money(1500, "GBP"), "£15.00"),
        (Money(1500, "CHF"), "15.00 CHF"),
        (Money(1500, "KRW"), "1,500 KRW"),
        (Money(1500, "OMR"), "1.500 OMR"),
        (Money(123456789, "USD"), "$1,234,567.89"),
    ],
)
def test_symbols_and_decimals_in_english(money, text):
    assert money.format("en") == text
    assert str(money) == text


def test_only_yen_is_written_with_en_in_japanese():
    assert Money(1500, "JPY").format("ja") == "1,500円"
    assert Money(1500, "EUR").format("ja") == "€15.00"
    assert Money(1500, "CHF").format("ja") == "15.00 CHF"


@pytest.mark.parametrize(
    ("money", "major"),
    [
        (Money(1500, "JPY"), Decimal("1500")),
        (Money(1500, "USD"), Decimal("15.00")),
        (Money(1, "KWD"), Decimal("0.001")),
    ],
)
def test_major_units(money, major):
    assert money.major == major


# --- limits -------------------------------------------------------------------------------------


def test_max_amount_is_the_published_ceiling_and_fits_postgresql():
    # the staff API publishes this ceiling in its schema; PostgreSQL's bigint holds it
    assert MAX_AMOUNT == 99_999_999_999
    assert MAX_AMOUNT < 2**63 - 1


def test_amounts_up_to_the_limit_are_money():
    assert Money(MAX_AMOUNT, "JPY").amount == MAX_AMOUNT
    assert Money(0, "JPY") == Money.zero("jpy")


def test_one_beyond_the_limit_is_refused():
    with pytest.raises(MoneyError, match=f"amount {MAX_AMOUNT + 1} is larger than payops accepts"):
        Money(MAX_AMOUNT + 1, "JPY")


def test_arithmetic_cannot_pass_the_limit():
    with pytest.raises(MoneyError, match="larger than payops accepts"):
        Money(MAX_AMOUNT, "JPY") + Money(1, "JPY")
    with pytest.raises(MoneyError, match="larger than payops accepts"):
        Money(MAX_AMOUNT // 2 + 1, "JPY") * 2
    with pytest.raises(MoneyError, match="larger than payops accepts"):
        Money.from_major("999999999.99", "USD") + Money(1, "USD")


def test_negative_results_are_refused_with_the_amount():
    with pytest.raises(MoneyError, match="must not be negative, got -1"):
        Money(100, "JPY") - Money(101, "JPY")
    with pytest.raises(MoneyError, match="must not be negative, got -100"):
        Money(100, "JPY") * -1
    with pytest.raises(MoneyError, match="must not be negative"):
        Money.from_major("-0.01", "USD")
    assert Money(100, "JPY") - Money(100, "JPY") == Money(0, "JPY")


# --- arithmetic across currencies, types ----------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_no_arithmetic_or_comparison_across_currencies(operation):
    with pytest.raises(MoneyError, match=r"cannot combine (JPY with USD|USD with JPY)"):
        operation(Money(100, "JPY"), Money(100, "USD"))


@pytest.mark.parametrize("other", [100, Decimal("1"), "100"])
def test_money_combines_only_with_money(other):
    with pytest.raises(TypeError, match="only combine Money with Money"):
        Money(100, "JPY") + other
    with pytest.raises(TypeError, match="only combine Money with Money"):
        Money(100, "JPY") - other
    with pytest.raises(TypeError, match="only combine Money with Money"):
        assert Money(100, "JPY") < other


def test_equal_money_is_equal_only_in_the_same_currency():
    assert Money(100, "JPY") == Money(100, "jpy")
    assert Money(100, "JPY") != Money(100, "KRW")
    assert Money(100, "JPY") != Money(101, "JPY")


def test_ordering_in_one_currency():
    small, large = Money(100, "JPY"), Money(101, "JPY")
    assert small < large and not large < small and not small < Money(100, "JPY")
    assert small <= Money(100, "JPY") and small <= large and not large <= small
    assert large > small and large >= small and Money(100, "JPY") >= small


@pytest.mark.parametrize("quantity", [True, 1.0, Decimal("2"), "2", None])
def test_multiplying_needs_a_whole_quantity(quantity):
    with pytest.raises(MoneyError, match="multiplied by a whole quantity"):
        Money(100, "JPY") * quantity


def test_multiplying_by_zero_is_zero():
    assert Money(1500, "JPY") * 0 == Money.zero("JPY")


# --- a value ----------------------------------------------------------------------------------------


def test_money_is_immutable():
    money = Money(100, "JPY")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.currency = "USD"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        money.note = "x"  # type: ignore[attr-defined]
    assert money == Money(100, "JPY")


def test_money_is_hashable_by_value():
    assert hash(Money(100, "jpy")) == hash(Money(100, "JPY"))
    assert {Money(100, "JPY"), Money(100, "JPY"), Money(100, "USD")} == {Money(100, "JPY"), Money(100, "USD")}
    assert {Money(100, "JPY"): "a"}[Money(100, " jpy ")] == "a"


# --- parsing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [(15, "USD", 1500), ("1e3", "JPY", 1000), (" 7 ", "JPY", 7), ("0", "KWD", 0), ("2.50", "GBP", 250)],
)
def test_from_major_accepts_whole_numbers_and_plain_text(value, currency, minor):
    assert Money.from_major(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "floats are not accepted"),
        ("abc", "'abc' is not a number"),
        ("NaN", "'NaN' is not a finite amount"),
        ("-Infinity", "'-Infinity' is not a finite amount"),
        (Decimal("sNaN"), "is not a finite amount"),
    ],
)
def test_from_major_refusals_name_the_problem(value, message):
    with pytest.raises(MoneyError, match=message):
        Money.from_major(value, "USD")


def test_from_major_names_the_currency_and_its_decimals():
    with pytest.raises(MoneyError, match=r"JPY has 0 decimal places; '15.5' has more"):
        Money.from_major("15.5", "JPY")
    with pytest.raises(MoneyError, match="unknown or unsupported currency 'XXX'"):
        Money.from_major("1", "XXX")


@pytest.mark.parametrize(("currency", "kind"), [(392, "int"), (None, "NoneType"), (b"JPY", "bytes")])
def test_a_currency_must_be_text(currency, kind):
    with pytest.raises(MoneyError, match=f"currency must be an ISO 4217 code, got {kind}"):
        Money(100, currency)


@pytest.mark.parametrize(("amount", "kind"), [(1.5, "float"), ("100", "str"), (True, "bool"), (None, "NoneType")])
def test_an_amount_must_be_an_integer_and_says_what_it_got(amount, kind):
    with pytest.raises(MoneyError, match=f"integer number of minor units, got {kind}"):
        Money(amount, "JPY")
