"""Money: integer minor units with an ISO 4217 currency. No floats anywhere.

Rules:
- an amount is a whole number of the currency's minor unit (kobo, pesewas, cents) and fits a
  signed 64-bit integer (a Postgres ``bigint``);
- only the currencies in ``CURRENCY_EXPONENTS`` are supported;
- adding, subtracting or ordering amounts of different currencies is refused with
  ``CurrencyMismatch`` (equality simply says "not equal").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from core.errors import InvalidInput

#: Supported currencies and the number of decimal digits of their minor unit.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "NGN": 2,  # kobo
        "GHS": 2,  # pesewas
        "KES": 2,  # cents
        "ZAR": 2,  # cents
        "USD": 2,  # cents
    }
)

#: Largest magnitude of an amount in minor units (fits a Postgres ``bigint``).
MAX_AMOUNT_MINOR = 2**63 - 1

_MAJOR_AMOUNT = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


class UnsupportedCurrency(InvalidInput):
    """The currency code is not one Chorus handles."""

    code = "unsupported_currency"


class CurrencyMismatch(InvalidInput):
    """Two amounts of different currencies were combined or compared."""

    code = "currency_mismatch"


class InvalidAmount(InvalidInput):
    """The amount is not a whole number of minor units, or is out of range."""

    code = "invalid_amount"


def normalise_currency(code: str) -> str:
    """Upper-case and check a currency code from the outside world (``"ngn"`` → ``"NGN"``)."""
    currency = code.strip().upper()
    if currency not in CURRENCY_EXPONENTS:
        raise UnsupportedCurrency(
            f"Currency must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}.",
            currency=code,
        )
    return currency


def minor_unit_exponent(currency: str) -> int:
    """Decimal digits of the currency's minor unit (2 for NGN: 100 kobo to the naira)."""
    return CURRENCY_EXPONENTS[normalise_currency(currency)]


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency, in integer minor units (``Money(50_000, "NGN")`` is ₦500)."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount_minor) is not int:  # bool and float are refused too
            raise InvalidAmount("Amounts are whole numbers of minor units.")
        if abs(self.amount_minor) > MAX_AMOUNT_MINOR:
            raise InvalidAmount("Amount out of range.", amount_minor=self.amount_minor)
        if self.currency not in CURRENCY_EXPONENTS:
            raise UnsupportedCurrency(
                f"Currency must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}.",
                currency=self.currency,
            )

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency``."""
        return cls(0, currency)

    @classmethod
    def from_major(cls, text: str, currency: str) -> Money:
        """Parse a decimal amount in major units (``"1234.5"`` NGN → 123 450 kobo).

        Refuses more decimals than the currency has, thousands separators, exponents and
        anything else that is not ``-?digits[.digits]``.
        """
        currency = normalise_currency(currency)
        match = _MAJOR_AMOUNT.fullmatch(text.strip())
        exponent = CURRENCY_EXPONENTS[currency]
        fraction = (match.group("fraction") or "") if match else ""
        if match is None or len(fraction) > exponent:
            raise InvalidAmount(
                f"{text!r} is not an amount with at most {exponent} decimals.", text=text
            )
        magnitude = int(match.group("whole") + fraction.ljust(exponent, "0"))
        return cls(-magnitude if match.group("sign") else magnitude, currency)

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse what ``str(money)`` gives: ``"NGN 1234.50"``."""
        currency, _, amount = text.strip().partition(" ")
        if not amount:
            raise InvalidAmount(f"{text!r} is not '<CURRENCY> <amount>'.", text=text)
        return cls.from_major(amount, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of ``amounts``, all of which must be in ``currency``."""
        result = cls.zero(currency)
        for amount in amounts:
            result += amount
        return result

    # -- reading ---------------------------------------------------------------------------

    @property
    def is_zero(self) -> bool:
        return self.amount_minor == 0

    @property
    def is_positive(self) -> bool:
        return self.amount_minor > 0

    @property
    def is_negative(self) -> bool:
        return self.amount_minor < 0

    def to_major(self) -> str:
        """The amount in major units with every minor digit: ``"1234.50"``, ``"-0.05"``."""
        exponent = CURRENCY_EXPONENTS[self.currency]
        whole, fraction = divmod(abs(self.amount_minor), 10**exponent)
        sign = "-" if self.amount_minor < 0 else ""
        if exponent == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{fraction:0{exponent}d}"

    def __str__(self) -> str:
        return f"{self.currency} {self.to_major()}"

    # -- arithmetic (same currency only) ---------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"Cannot combine {self.currency} with {other.currency}.",
                left=self.currency,
                right=other.currency,
            )

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount_minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        """Multiply by a whole number (a count of actions); fractions are refused."""
        if type(factor) is not int:
            return NotImplemented
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    # -- ordering (same currency only) -----------------------------------------------------

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor >= other.amount_minor
