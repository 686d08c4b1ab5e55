"""Exact money: ``Decimal`` at the edges, integer minor units inside the engine.

How this works: a ``Money`` holds integer minor units of its currency (its ISO 4217 exponent says
how many decimals), so ``Money.minor`` is exact and its Decimal ``amount`` is built only when read.
The engine does all its arithmetic on those ints (``div_round`` names its rounding mode,
``allocate`` and ``place`` split amounts), then converts back with ``Money.of_minor``. No float is
ever involved, and the caller's ``decimal`` context is never read: every Decimal operation here
uses the library's own context ``CONTEXT``.
"""

from __future__ import annotations

import decimal
import enum
import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Literal

import attrs

from .errors import Path, ValidationError
from .validators import checked

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
MAX_DIGITS = 40  # of any number read: written out, it stays short
_DIGITS_BOUND: int = 10**MAX_DIGITS
# sign, whole and fraction digits; ASCII only: \d takes any script
_NUMBER = re.compile(r"(-?)([0-9]{1,40})(?:\.([0-9]{1,40}))?")
CONTEXT = decimal.Context(
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


def plain_number(value: int | Decimal) -> bool:
    """Finite, at most ``MAX_DIGITS`` digits, and no exponent that writes out as a megabyte."""
    if isinstance(value, int):
        return -_DIGITS_BOUND < value < _DIGITS_BOUND
    if not value.is_finite():
        return False
    return (
        len(value.as_tuple().digits) <= MAX_DIGITS and -MAX_DIGITS <= value.adjusted() < MAX_DIGITS
    )


def to_units(amount: Decimal, places: int) -> int | None:
    """``amount`` as an integer count of ``10^-places``; ``None`` when it has finer decimals."""
    scaled = amount.scaleb(places, context=CONTEXT)
    return int(scaled) if scaled == scaled.to_integral_value(context=CONTEXT) else None


def down_units(amount: Decimal, places: int, rounding: str = decimal.ROUND_FLOOR) -> int:
    """``amount`` in ``10^-places`` units, finer decimals dropped by ``rounding``."""
    scaled = amount.scaleb(places, context=CONTEXT)
    return int(scaled.to_integral_value(rounding=rounding, context=CONTEXT))


def of_units(units: int, places: int) -> Decimal:
    """The Decimal worth ``units`` × ``10^-places``; exact for any size (never ``-0``)."""
    return Decimal(units).scaleb(-places, context=CONTEXT)


def money_text(units: int, currency: str) -> str:
    """Minor units as the wire writes money (``"139500.00"``, ``"-0.05"``, ``"1500"`` for JPY):
    ``str(Money.of_minor(units, currency))``, from the integers alone and with no cap."""
    places = exponent(currency)
    if not places:
        return str(units)
    whole, part = divmod(abs(units), 10**places)
    return f"{'-' if units < 0 else ''}{whole}.{part:0{places}d}"


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
    if places is not None and to_units(number, places) is None:
        raise ValidationError(path, value, f"more decimals than {unit} allows")
    return number


def _amount_units(amount: object, currency: str) -> int:
    """``Money(amount, currency)``'s minor units; every problem is a ``ValidationError``."""
    exp = exponent(currency)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationError(("amount",), amount, "must be a finite Decimal")
    if amount.adjusted() >= MAX_MAJOR_DIGITS:
        raise ValidationError(("amount",), amount, f"must be below 10^{MAX_MAJOR_DIGITS}")
    minor = to_units(amount, exp)
    if minor is None:
        raise ValidationError(("amount",), amount, f"more decimals than {currency} allows")
    return minor


@attrs.frozen(init=False, repr=False, match_args=False)
class Money:
    """An exact amount in one currency, quantized to the currency's ISO 4217 exponent.

    It is held as integer minor units (what the engine computes with, compares and writes out);
    the ``Decimal`` ``amount`` is built on first read.
    """

    _minor: int
    currency: str
    __match_args__ = ("amount", "currency")  # as it is built: Money(amount, currency)

    def __init__(self, amount: Decimal, currency: str) -> None:
        self.__attrs_init__(_amount_units(amount, currency), currency)

    @functools.cached_property
    def amount(self) -> Decimal:
        """The amount as a Decimal with exactly the currency's decimals (never ``-0``)."""
        return of_units(self._minor, exponent(self.currency))

    @classmethod
    @checked
    def parse(cls, value: object, currency: str, path: Path = ()) -> Money:
        """Money from wire text such as ``"139999.00"``; every error names ``path``."""
        places = exponent(currency, (*path[:-1], "currency") if path else ("currency",))
        plain = _NUMBER.fullmatch(value) if type(value) is str else None
        if plain is not None:  # the wire's usual form, read straight to minor units
            sign, whole, fraction = plain.groups(default="")
            if not fraction[places:].strip("0"):
                minor = int(whole + fraction[:places].ljust(places, "0"))
                if minor < _LIMIT[places]:
                    return cls._of(-minor if sign else minor, currency)
        return cls(parse_decimal(value, path, places=places, unit=currency), currency)

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        """Money from integer minor units (kopeks, cents, yen)."""
        exp = exponent(currency)
        if type(minor) is not int:
            raise ValidationError(("minor",), minor, "must be an integer")
        if abs(minor) >= _LIMIT[exp]:
            return cls(of_units(minor, exp), currency)  # raises, with path
        return cls._of(minor, currency)

    @classmethod
    def _of(cls, minor: int, currency: str) -> Money:
        """Checked already: the hot path builds it field by field."""
        money = object.__new__(cls)
        object.__setattr__(money, "_minor", minor)
        object.__setattr__(money, "currency", currency)
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
        return money_text(self._minor, self.currency)

    def __repr__(self) -> str:
        return f"Money(amount={self.amount!r}, currency={self.currency!r})"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError(("currency",), other.currency, f"expected {self.currency}")

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self._minor < other._minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self._minor <= other._minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self._minor > other._minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self._minor >= other._minor


Remainder = Literal["largest", "first", "last"]  # who gets the units a proportional split leaves


def allocate(
    total: int,
    weights: Sequence[int],
    remainder: Remainder = "largest",
    ties: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Split ``total`` in proportion to ``weights``; parts add up to the kopek.

    Every part is first rounded down; the few units left go by ``remainder``: to the largest
    remainders, or all to the first or the last line of positive weight (as engines that "put
    the rounding on one line" do). Equal remainders go to the lowest ``ties`` rank (default:
    the earlier line; the engine ranks lines by id, so their order changes no total).
    All-zero weights split evenly.
    """
    if type(total) is not int:
        raise ValidationError(("total",), total, "must be an integer")
    if not isinstance(weights, list | tuple) or any(type(w) is not int or w < 0 for w in weights):
        raise ValidationError(("weights",), weights, "must be a list of non-negative integers")
    return split(total, weights, remainder, ties)


def split(
    total: int,
    weights: Sequence[int],
    remainder: Remainder = "largest",
    ties: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """``allocate`` for the engine's own integers: the same split, the arguments unchecked."""
    if not weights:
        return ()
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    short = total - sum(shares)
    if not short:
        return tuple(shares)
    if remainder == "largest":
        remainders = [total * w % whole for w in weights]
        rank = ties if ties is not None else range(len(weights))
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], rank[i]))[:short]:
            shares[index] += 1
    else:
        positive = [i for i, w in enumerate(weights) if w]
        shares[positive[0] if remainder == "first" else positive[-1]] += short
    return tuple(shares)


EXACT_PLACE_BITS = 1 << 25  # the exact search's budget: (classes of steps) × (total ÷ gcd) bits


def place(
    total: int,
    weights: Sequence[int],
    caps: Sequence[int],
    steps: Sequence[int],
    remainder: Remainder = "largest",
    ties: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Place as much of ``total`` as fits: share ``i`` a multiple of ``steps[i]``, ``<= caps[i]``.

    The proportional split by ``weights`` (``allocate``) is the answer whenever it fits. When a
    step or a cap refuses it, the proportional floors are topped up line by line, largest step
    first; if that leaves some unplaced, an exact search finds the largest placeable sum
    (3 × 0.58 + 7 × 1.18 = 10.00 exists, so 10.00 is placed) and the split of it closest to
    proportional. The sum falls short of ``total`` only when no split reaches it, and it never
    depends on the line order. ``remainder`` and ``ties`` are ``allocate``'s.
    """
    rank = list(ties) if ties is not None else list(range(len(weights)))
    ideal = split(total, weights, remainder, rank)
    usable = [cap - cap % step if cap > 0 else 0 for cap, step in zip(caps, steps, strict=True)]
    if all(
        share <= cap and share % step == 0
        for share, cap, step in zip(ideal, usable, steps, strict=True)
    ):
        return ideal
    if sum(usable) <= total:
        return tuple(usable)
    return _search(total, ideal, usable, steps, rank)


def _search(
    total: int,
    ideal: Sequence[int],
    caps: Sequence[int],
    steps: Sequence[int],
    rank: Sequence[int],
) -> tuple[int, ...]:
    """The exact placement: lines grouped by step, a bitset of reachable sums per group.

    Reachable sums are found layer by layer (bit ``s`` of layer ``j`` is set when the first
    ``j`` step classes can make ``s``), in units of the steps' gcd; the best sum is then walked
    back from the last class down, each class taking the multiple nearest its proportional
    share that leaves a reachable rest. The cheap greedy fill (proportional floors, then lines
    by step, largest first) is tried first: when it places all it could (every multiple of the
    gcd up to ``total``), nothing places more.
    Past ``EXACT_PLACE_BITS`` the search would be too large, and the greedy fill stands.
    """
    live = [i for i, cap in enumerate(caps) if cap > 0]
    unit = math.gcd(*(steps[i] for i in live))
    classes: dict[int, list[int]] = {}
    for i in sorted(live, key=lambda i: (steps[i], rank[i])):
        classes.setdefault(steps[i] // unit, []).append(i)
    greedy = _greedy(total, ideal, caps, steps, classes)
    target = total // unit
    if sum(greedy) == target * unit or len(classes) * (target + 1) > EXACT_PLACE_BITS:
        return greedy  # every multiple of the gcd placed: nothing places more; or too large
    mask = (1 << (target + 1)) - 1
    layers = [1]  # layers[j]: sums reachable with the first j classes (bit 0: nothing placed)
    for size, members in classes.items():
        reach, left, take = layers[-1], sum(caps[i] // steps[i] for i in members), 1
        while left:  # binary splitting of a bounded multiplicity: 1, 2, 4, … copies
            part = min(take, left)
            reach |= (reach << (part * size)) & mask
            left, take = left - part, take * 2
        layers.append(reach)
    best = layers[-1].bit_length() - 1
    shares = [0] * len(caps)
    for j, (size, members) in reversed(list(enumerate(classes.items()))):
        most = min(sum(caps[i] // steps[i] for i in members), best // size)
        wanted = div_round(sum(ideal[i] for i in members), size * unit, Rounding.HALF_UP)
        below = layers[j]
        count = next(m for m in _nearest(wanted, 0, most) if (below >> (best - m * size)) & 1)
        best -= count * size
        filled = _fill(count, members, ideal, caps, steps, rank)
        for i, multiples in zip(members, filled, strict=True):
            shares[i] = multiples * steps[i]
    return tuple(shares)


def _nearest(wanted: int, low: int, high: int) -> Iterator[int]:
    """``low..high``, nearest to ``wanted`` first (below before above on a tie)."""
    centre = min(max(wanted, low), high)
    yield centre
    for distance in range(1, high - low + 1):
        if centre - distance >= low:
            yield centre - distance
        if centre + distance <= high:
            yield centre + distance


def _fill(
    count: int,
    members: Sequence[int],
    ideal: Sequence[int],
    caps: Sequence[int],
    steps: Sequence[int],
    rank: Sequence[int],
) -> list[int]:
    """``count`` multiples of one step over ``members``, near their ideal shares, within caps."""
    ties = [rank[i] for i in members]
    room = [caps[i] // steps[i] for i in members]
    taken = [min(ideal[i] // steps[i], r) for i, r in zip(members, room, strict=True)]
    left = count - sum(taken)
    if left < 0:
        return [t - cut for t, cut in zip(taken, split(-left, taken, ties=ties), strict=True)]
    spare = [r - t for r, t in zip(room, taken, strict=True)]
    return [t + extra for t, extra in zip(taken, split(left, spare, ties=ties), strict=True)]


def _greedy(
    total: int,
    ideal: Sequence[int],
    caps: Sequence[int],
    steps: Sequence[int],
    classes: dict[int, list[int]],
) -> tuple[int, ...]:
    shares = [min(cap, share - share % step) for share, cap, step in zip(ideal, caps, steps,
                                                                         strict=True)]  # fmt: skip
    left = total - sum(shares)
    for members in reversed(classes.values()):
        for i in members:
            extra = min(caps[i] - shares[i], left - left % steps[i])
            shares[i] += extra
            left -= extra
    return tuple(shares)
