"""Exact money: ``Decimal`` at the edges, integer minor units inside the engine.

How this works: a ``Money`` always holds a Decimal already quantized to its currency's ISO 4217
exponent, so ``Money.minor`` is an exact ``int``. The engine does all its arithmetic on those ints
(``div_round`` names its rounding mode, ``allocate`` and ``place`` split amounts), then converts
back with ``Money.of_minor``. No float is ever involved, and the caller's ``decimal`` context is
never read: every Decimal operation here uses the private context ``_CTX``.
"""

from __future__ import annotations

import decimal
import enum
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs

from .errors import Path, ValidationError

# ISO 4217 minor-unit exponents of the active codes; everything not listed below uses 2.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP "
    "LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR "
    "NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD YER ZAR ZMW "
    "ZWG"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _EXPONENT_0.split()},
    **{code: 2 for code in _EXPONENT_2.split()},
    **{code: 3 for code in _EXPONENT_3.split()},
    **{code: 4 for code in _EXPONENT_4.split()},
}

MAX_MAJOR_DIGITS = 15  # 10^15 units of any currency is more money than exists; beyond is hostile
_LIMIT = {exp: 10 ** (MAX_MAJOR_DIGITS + exp) for exp in range(5)}  # the same bound, in minor units
_NUMBER = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?")  # ASCII only: \d takes any script
_CTX = decimal.Context(
    prec=80,
    rounding=decimal.ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)


class Rounding(enum.Enum):
    """Rounding modes a program may name; the values are the words used in program files."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    HALF_DOWN = "half_down"
    DOWN = "down"
    UP = "up"


def div_round(numerator: int, denominator: int, mode: Rounding) -> int:
    """``numerator / denominator`` rounded to an int by ``mode``; exact for any size."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder and _BUMP[mode](quotient, 2 * remainder, denominator):
        quotient += 1
    return quotient if numerator >= 0 else -quotient


# Round the magnitude up? Given (quotient, 2 × remainder, denominator), remainder > 0.
_BUMP: dict[Rounding, Callable[[int, int, int], bool]] = {
    Rounding.DOWN: lambda q, twice, d: False,
    Rounding.UP: lambda q, twice, d: True,
    Rounding.HALF_UP: lambda q, twice, d: twice >= d,
    Rounding.HALF_DOWN: lambda q, twice, d: twice > d,
    Rounding.HALF_EVEN: lambda q, twice, d: twice > d or (twice == d and q % 2 == 1),
}


def exponent(currency: str, path: Path = ("currency",)) -> int:
    """ISO 4217 minor-unit exponent of ``currency`` (RUB 2, JPY 0, KWD 3)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise ValidationError(path, currency, "unknown ISO 4217 currency code") from None


def parse_decimal(
    value: object, path: Path, *, places: int | None = None, unit: str = "the field"
) -> Decimal:
    """A finite Decimal from ``str`` / ``int`` / ``Decimal``; never from ``float`` or ``bool``.

    ``places`` bounds the number of decimals (``unit`` names who sets it in the message); more
    is an error, not a silent rounding.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationError(path, value, "must be a decimal string or an integer")
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise ValidationError(path, value, "must be a plain decimal number like '139999.00'")
    try:
        number = Decimal(value) if not isinstance(value, Decimal) else value
    except decimal.InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        raise ValidationError(path, value, "not a number") from None
    if not number.is_finite():
        raise ValidationError(path, value, "must be finite")
    if number.adjusted() >= MAX_MAJOR_DIGITS:
        raise ValidationError(path, value, f"must be below 10^{MAX_MAJOR_DIGITS}")
    if places is not None and number != number.quantize(Decimal(1).scaleb(-places), context=_CTX):
        raise ValidationError(path, value, f"more decimals than {unit} allows")
    return number


def _check_amount(instance: Money, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    exp = exponent(instance.currency)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(("amount",), value, "must be a finite Decimal")
    if value.adjusted() >= MAX_MAJOR_DIGITS:
        raise ValidationError(("amount",), value, f"must be below 10^{MAX_MAJOR_DIGITS}")
    if value != value.quantize(Decimal(1).scaleb(-exp), context=_CTX):
        raise ValidationError(("amount",), value, f"more decimals than {instance.currency} allows")


@attrs.frozen(order=False)
class Money:
    """An exact amount in one currency, quantized to the currency's ISO 4217 exponent."""

    amount: Decimal = attrs.field(validator=_check_amount)
    currency: str = attrs.field()
    _minor: int = attrs.field(init=False, eq=False, repr=False)  # derived once; hot loops read it

    @currency.validator
    def _known(self, attribute: attrs.Attribute[str], value: str) -> None:
        exponent(value)

    def __attrs_post_init__(self) -> None:
        exp = exponent(self.currency)
        amount = self.amount.quantize(Decimal(1).scaleb(-exp), context=_CTX)
        object.__setattr__(self, "amount", amount.copy_abs() if amount.is_zero() else amount)
        object.__setattr__(self, "_minor", int(amount.scaleb(exp, context=_CTX)))

    @classmethod
    def parse(cls, value: object, currency: str, path: Path = ()) -> Money:
        """Money from wire text such as ``"139999.00"``; every error names ``path``."""
        places = exponent(currency, (*path[:-1], "currency") if path else ("currency",))
        return cls(parse_decimal(value, path, places=places, unit=currency), currency)

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        """Money from integer minor units (kopeks, cents, yen).

        The engine's hot path: an int scaled by the exponent is exact by construction, so only
        the bounds are checked, not re-derived.
        """
        exp = exponent(currency)
        if abs(minor) >= _LIMIT[exp]:
            return cls(Decimal(minor).scaleb(-exp, context=_CTX), currency)  # raises, with path
        money = object.__new__(cls)
        object.__setattr__(money, "amount", Decimal(minor).scaleb(-exp, context=_CTX))
        object.__setattr__(money, "currency", currency)
        object.__setattr__(money, "_minor", minor)
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of_minor(0, currency)

    @property
    def minor(self) -> int:
        """The amount in integer minor units; exact by construction."""
        return self._minor

    def __str__(self) -> str:
        """The wire form: ``'139500.00'`` for RUB, ``'1500'`` for JPY."""
        return format(self.amount, "f")

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError(("currency",), other.currency, f"expected {self.currency}")

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount


def allocate(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Split ``total`` in proportion to ``weights`` by largest remainder.

    Receipts add up to the kopek; ties go to the earlier line. All-zero weights split evenly.
    """
    if not weights:
        return ()
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    short = total - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:short]:
        shares[index] += 1
    return tuple(shares)


def place(
    total: int, weights: Sequence[int], caps: Sequence[int], steps: Sequence[int]
) -> tuple[int, ...]:
    """Place as much of ``total`` as fits: share ``i`` a multiple of ``steps[i]``, ``<= caps[i]``.

    First a largest-remainder split by ``weights``, each share rounded down to its step and cap;
    then what is left goes, line by line in input order, to lines with room in whole steps. What
    still cannot be placed is not placed: the sum may fall short of ``total``, never exceed it.
    """
    fitted = [
        min(cap - cap % step, share - share % step)
        for share, cap, step in zip(allocate(total, weights), caps, steps, strict=True)
    ]
    left = total - sum(fitted)
    for index, (cap, step) in enumerate(zip(caps, steps, strict=True)):
        if left < step:
            continue
        room = cap - cap % step - fitted[index]
        extra = min(room, left - left % step)
        fitted[index] += extra
        left -= extra
    return tuple(fitted)
