"""Money as an integer amount in the currency's minor unit plus an ISO 4217 code.

This is the unit Stripe uses: ¥1500 is ``Money(1500, "JPY")``, $15.00 is ``Money(1500, "USD")``.
Floats are refused everywhere; every amount that enters payops passes through here (ADR 0002).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Exponent (digits after the decimal point) for the currencies payops accepts: only those for
# which ISO 4217 and Stripe's API agree, because amounts go to Stripe as they are stored.
# Stripe's special cases are left out on purpose: ISK is two-decimal in Stripe's API (100 = 1 króna)
# but has no minor unit in ISO 4217; HUF and TWD pay out in whole units; UGX has a two-decimal
# legacy. Sources and checks: tests/payops/test_money.py, docs/testing.md "Currencies".
CURRENCY_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "SGD": 2,
    "HKD": 2,
    "NZD": 2,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}

_SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}

# Beyond this no real order goes; it keeps sums of amounts far inside a PostgreSQL bigint.
# (Stripe refuses a single charge above 8 digits in most currencies with an error of its own.)
MAX_AMOUNT = 99_999_999_999


class MoneyError(ValueError):
    """An amount or currency that payops refuses to handle."""


def currency_exponent(currency: str) -> int:
    code = normalize_currency(currency)
    return CURRENCY_EXPONENTS[code]


def normalize_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise MoneyError(f"currency must be an ISO 4217 code, got {type(currency).__name__}")
    code = currency.strip().upper()
    if code not in CURRENCY_EXPONENTS:
        raise MoneyError(f"unknown or unsupported currency {currency!r}")
    return code


def validate_amount(amount: object) -> int:
    # bool is an int subclass; True as an amount is always a bug.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"amount must be an integer number of minor units, got {type(amount).__name__}")
    if amount < 0:
        raise MoneyError(f"amount must not be negative, got {amount}")
    if amount > MAX_AMOUNT:
        raise MoneyError(f"amount {amount} is larger than payops accepts")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", validate_amount(self.amount))
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(cls, value: str | Decimal | int, currency: str) -> Money:
        """Parse a human amount such as ``"15.00"``; more digits than the currency has are refused."""
        if isinstance(value, float):
            raise MoneyError("floats are not accepted for money; pass a string or Decimal")
        exponent = currency_exponent(currency)
        try:
            decimal_value = Decimal(str(value))
        except ArithmeticError as exc:
            raise MoneyError(f"{value!r} is not a number") from exc
        if not decimal_value.is_finite():
            raise MoneyError(f"{value!r} is not a finite amount")
        minor = decimal_value.scaleb(exponent)
        if minor != minor.to_integral_value():
            raise MoneyError(f"{currency} has {exponent} decimal places; {value!r} has more")
        return cls(int(minor), currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise MoneyError("money can only be multiplied by a whole quantity")
        return Money(self.amount * quantity, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-self.exponent)

    def format(self, locale: str = "en") -> str:
        """Display form: ``¥1,500`` in English, ``1,500円`` in Japanese for yen."""
        number = f"{self.major:,.{self.exponent}f}"
        if locale == "ja" and self.currency == "JPY":
            return f"{number}円"
        symbol = _SYMBOLS.get(self.currency)
        if symbol:
            return f"{symbol}{number}"
        return f"{number} {self.currency}"

    def as_json(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency}

    def __str__(self) -> str:
        return self.format()
