"""Money: integer minor units, one currency at a time, no floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.money import (
    CURRENCY_EXPONENTS,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    UnsupportedCurrency,
    minor_unit_exponent,
    normalise_currency,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
amounts = st.integers(min_value=-(10**15), max_value=10**15)


def money_in(currency: str) -> st.SearchStrategy[Money]:
    return amounts.map(lambda minor: Money(minor, currency))


monies = currencies.flatmap(money_in)
same_currency_pairs = currencies.flatmap(lambda c: st.tuples(money_in(c), money_in(c)))
same_currency_triples = currencies.flatmap(
    lambda c: st.tuples(money_in(c), money_in(c), money_in(c))
)
two_currencies = st.lists(currencies, min_size=2, max_size=2, unique=True)


# -- construction --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [1.0, 0.5, True, "100"])
def test_only_whole_minor_units_are_amounts(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        Money(amount, "NGN")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["EUR", "ngn", "", "NAIRA"])
def test_unsupported_currencies_are_refused(currency: str) -> None:
    with pytest.raises(UnsupportedCurrency) as error:
        Money(100, currency)
    assert error.value.code == "unsupported_currency"


def test_amounts_fit_a_bigint() -> None:
    Money(2**63 - 1, "USD")
    with pytest.raises(InvalidAmount):
        Money(2**63, "USD")


def test_every_supported_currency_has_two_minor_digits() -> None:
    assert {
        c: minor_unit_exponent(c) for c in ("NGN", "GHS", "KES", "ZAR", "USD")
    } == dict.fromkeys(("NGN", "GHS", "KES", "ZAR", "USD"), 2)


def test_currency_codes_from_outside_are_normalised() -> None:
    assert normalise_currency(" ngn ") == "NGN"
    with pytest.raises(UnsupportedCurrency):
        normalise_currency("eur")


# -- parsing and formatting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minor"),
    [("1234.5", 123_450), ("0.05", 5), ("-12", -1_200), ("500", 50_000), (" 7.00 ", 700)],
)
def test_major_amounts_parse_exactly(text: str, minor: int) -> None:
    assert Money.from_major(text, "NGN") == Money(minor, "NGN")


@pytest.mark.parametrize("text", ["1.234", "1,000", "1e3", "", "+1", "-", ".5", "١٢", "NaN"])
def test_malformed_major_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.from_major(text, "NGN")


def test_str_shows_currency_and_every_minor_digit() -> None:
    assert str(Money(123_450, "NGN")) == "NGN 1234.50"
    assert str(Money(-5, "USD")) == "USD -0.05"


@pytest.mark.parametrize("text", ["NGN", "1234.50", "NGN  "])
def test_parse_needs_currency_and_amount(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text)


@given(monies)
def test_str_round_trips_through_parse(money: Money) -> None:
    assert Money.parse(str(money)) == money


@given(monies)
def test_to_major_round_trips_through_from_major(money: Money) -> None:
    assert Money.from_major(money.to_major(), money.currency) == money


# -- arithmetic ----------------------------------------------------------------------------


@given(same_currency_triples)
def test_addition_is_associative(triple: tuple[Money, Money, Money]) -> None:
    a, b, c = triple
    assert (a + b) + c == a + (b + c)


@given(same_currency_pairs)
def test_addition_is_commutative_and_subtraction_undoes_it(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert a + b == b + a
    assert (a + b) - b == a
    assert a - b == a + (-b)


@given(monies)
def test_zero_is_neutral_and_negation_cancels(money: Money) -> None:
    zero = Money.zero(money.currency)
    assert money + zero == money
    assert (money + -money).is_zero
    assert abs(money) >= zero


@given(same_currency_pairs, st.integers(min_value=-1000, max_value=1000))
def test_multiplying_by_a_count_distributes(pair: tuple[Money, Money], count: int) -> None:
    a, b = pair
    assert (a + b) * count == a * count + b * count
    assert count * a == a * count


@given(monies)
def test_fractional_factors_are_refused(money: Money) -> None:
    with pytest.raises(TypeError):
        _ = money * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = money * True  # bool is an int to the type checker, not to Money


@given(st.lists(amounts, max_size=20), currencies)
def test_total_is_the_sum_of_minor_units(minors: list[int], currency: str) -> None:
    assert Money.total((Money(m, currency) for m in minors), currency) == Money(
        sum(minors), currency
    )


@given(same_currency_pairs)
def test_ordering_follows_minor_units(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a < b) == (a.amount_minor < b.amount_minor)
    assert (a <= b) == (a.amount_minor <= b.amount_minor)
    assert (a > b) == (a.amount_minor > b.amount_minor)
    assert (a >= b) == (a.amount_minor >= b.amount_minor)
    assert a.is_positive == (a.amount_minor > 0)
    assert a.is_negative == (a.amount_minor < 0)


# -- never across currencies ---------------------------------------------------------------


@given(two_currencies, amounts, amounts)
def test_different_currencies_never_combine(pair: list[str], x: int, y: int) -> None:
    a, b = Money(x, pair[0]), Money(y, pair[1])
    for combine in (
        lambda: a + b,
        lambda: a - b,
        lambda: a < b,
        lambda: a <= b,
        lambda: a > b,
        lambda: a >= b,
        lambda: Money.total([a, b], pair[0]),
    ):
        with pytest.raises(CurrencyMismatch) as error:
            combine()
        assert error.value.code == "currency_mismatch"
    assert a != b


@given(monies)
def test_money_never_mixes_with_plain_numbers(money: Money) -> None:
    with pytest.raises(TypeError):
        _ = money + 1  # type: ignore[operator]
