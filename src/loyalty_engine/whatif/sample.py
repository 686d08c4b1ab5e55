"""Synthetic order history for the what-if: realistic enough to judge a program by, reproducible,
and lazy.

How this works: one ``random.Random(seed)`` draws every order in turn, so a seed names one history
byte for byte, and nothing is kept between orders, so memory does not grow with their number.
- Members are ranks 1..N (N = orders / 5, at least 10), drawn Zipf-like: each doubling of the rank
  (offset by N / 25) gets the same share of orders, so a few members buy every few days and the
  tail about once. A member's tier, segments, tags and balance scale are a hash of (seed, rank):
  the same at every visit without a table of members. The balance itself is drawn per order
  around the scale (a snapshot "as they stood then"); it is not a running ledger.
- Times never decrease: order i falls in the i-th of ``orders`` equal slices of the window's
  weighted time, where hours and weekdays carry shopping-traffic weights (Moscow time), so the
  file reads like an export sorted by time and evenings and weekends are busy.
- Every draw is an integer (weights, percents, kopeks): no float anywhere, so no platform's
  rounding can change a byte. Prices end in .00, .90 or .99. ``charged`` is synthetic: the base
  total and delivery less the points asked for (at most 30%) and, on some orders, a small
  discount. It is no program's answer, only a plausible figure to compare against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import random
from bisect import bisect_right
from collections.abc import Iterator
from typing import IO, Generic, NamedTuple, TypeVar

from ..errors import ValidationError


class Product(NamedTuple):
    """A catalog entry: what the example programs' ``[catalog.products]`` list."""

    product: str
    category: str
    band: tuple[int, int]  # the price range in whole rubles


# fmt: off
CATALOG: tuple[Product, ...] = (
    Product("sneakers-run", "shoes", (3990, 12990)),
    Product("sneakers-court", "shoes", (2990, 8990)),
    Product("boots-winter", "shoes", (5990, 19990)),
    Product("sandals", "shoes", (990, 3990)),
    Product("loafers", "shoes", (3990, 11990)),
    Product("slippers", "shoes", (390, 1490)),
    Product("kids-shoes", "shoes", (1490, 4990)),
    Product("tshirt", "clothing", (490, 2490)),
    Product("jeans", "clothing", (1990, 7990)),
    Product("hoodie", "clothing", (1990, 5990)),
    Product("jacket", "clothing", (4990, 24990)),
    Product("dress", "clothing", (1990, 9990)),
    Product("socks-pack", "clothing", (290, 990)),
    Product("underwear", "clothing", (390, 1990)),
    Product("coat", "clothing", (7990, 34990)),
    Product("smartphone", "electronics", (9990, 149990)),
    Product("laptop", "electronics", (39990, 149990)),
    Product("headphones", "electronics", (1990, 29990)),
    Product("tablet", "electronics", (14990, 89990)),
    Product("smartwatch", "electronics", (4990, 49990)),
    Product("tv-55", "electronics", (34990, 119990)),
    Product("powerbank", "electronics", (1990, 5990)),
    Product("speaker", "electronics", (2490, 24990)),
    Product("cookware-set", "home", (2990, 14990)),
    Product("bedding-set", "home", (1990, 8990)),
    Product("towels", "home", (490, 2490)),
    Product("vacuum", "home", (7990, 39990)),
    Product("lamp", "home", (990, 5990)),
    Product("storage-box", "home", (290, 1490)),
    Product("kettle", "home", (1490, 6990)),
    Product("candles", "home", (190, 990)),
    Product("shampoo", "beauty", (190, 990)),
    Product("face-cream", "beauty", (490, 4990)),
    Product("perfume", "beauty", (1990, 14990)),
    Product("lipstick", "beauty", (390, 2490)),
    Product("hair-dryer", "beauty", (1990, 9990)),
    Product("toothpaste", "beauty", (150, 590)),
    Product("nail-polish", "beauty", (190, 890)),
    Product("sunscreen", "beauty", (390, 1990)),
    Product("lego-set", "toys", (990, 14990)),
    Product("doll", "toys", (590, 3990)),
    Product("board-game", "toys", (990, 4990)),
    Product("plush-toy", "toys", (390, 2490)),
    Product("rc-car", "toys", (1490, 7990)),
    Product("puzzle", "toys", (290, 1490)),
    Product("kids-bike", "toys", (4990, 14990)),
    Product("novel", "books", (290, 990)),
    Product("cookbook", "books", (590, 2490)),
    Product("kids-book", "books", (190, 790)),
    Product("textbook", "books", (490, 2990)),
    Product("comics", "books", (290, 1290)),
    Product("art-album", "books", (990, 2990)),
    Product("milk", "groceries", (69, 139)),
    Product("bread", "groceries", (50, 99)),
    Product("eggs", "groceries", (89, 169)),
    Product("cheese", "groceries", (199, 499)),
    Product("coffee", "groceries", (299, 499)),
    Product("apples", "groceries", (99, 249)),
    Product("chicken", "groceries", (249, 499)),
    Product("pasta", "groceries", (59, 149)),
    Product("olive-oil", "groceries", (399, 499)),
    Product("chocolate", "groceries", (59, 199)),
)
# fmt: on

CURRENCY = "RUB"
POINTS = "bonus1"  # the example programs' points currency
START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
# (code, pool_id, weight): SPRING10 and WELCOME are the example programs'; SUMMER24 is last
# year's, which customers still type and no program accepts.
PROMO_CODES = (("SPRING10", 501, 6), ("WELCOME", 502, 3), ("SUMMER24", 503, 1))

_T = TypeVar("_T")


class _Table(NamedTuple, Generic[_T]):
    """Values and their cumulative weights: a weighted draw is one ``bisect``."""

    values: tuple[_T, ...]
    cumulative: tuple[int, ...]

    @classmethod
    def of(cls, *pairs: tuple[_T, int]) -> _Table[_T]:
        return cls(tuple(v for v, _ in pairs), tuple(itertools.accumulate(w for _, w in pairs)))


# Lines per basket skew to 1-3; groceries come by the several.
_BASKET = _Table.of((1, 30), (2, 25), (3, 18), (4, 10), (5, 7), (6, 5), (7, 3), (8, 2))
_CATEGORY = _Table.of(
    ("groceries", 30), ("clothing", 14), ("beauty", 13), ("home", 11),
    ("books", 9), ("toys", 8), ("shoes", 8), ("electronics", 7),
)  # fmt: skip
_COUNT = _Table.of((1, 82), (2, 13), (3, 5))
_GROCERY_COUNT = _Table.of((1, 35), (2, 25), (3, 15), (4, 10), (5, 8), (6, 7))
_ENDPOINT = _Table.of(("site", 55), ("app", 35), ("store", 10))
_CODE = _Table.of(*((code, weight) for code, _, weight in PROMO_CODES))
_POOL = {code: pool_id for code, pool_id, _ in PROMO_CODES}
_ENDING = _Table.of((0, 40), (10, 20), (1, 40))  # kopeks below the ruble: .00, .90, .99
_DELIVERY = _Table.of((19900, 5), (29900, 3), (39900, 2))
# Shopping traffic by Moscow hour (0-23) and ISO weekday (Mon-Sun).
_HOUR = (2, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 11, 12, 12, 11, 11, 12, 13, 14, 15, 14, 11, 7, 4)
_WEEKDAY = (13, 13, 14, 14, 16, 16, 14)
_MOSCOW = dt.timedelta(hours=3)

_GUEST_PERCENT = 15
_CODE_PERCENT = 10
_REDEEM_PERCENT = 31  # of members with points: about 20% of all member orders
_CHARGED_PERCENT = 95
# Zipf-Mandelbrot offset, a share of the population: flattens the head so that the best
# customers order a few dozen times a quarter however long the history, the tail about once.
_HEAD_SHARE = 25
_HOUR_MS = 3_600_000

_BY_CATEGORY = {
    category: tuple(p for p in CATALOG if p.category == category) for category in _CATEGORY.values
}


def sample_history(
    orders: int, *, seed: int, start: dt.datetime = START, days: int = 92
) -> Iterator[dict[str, object]]:
    """``orders`` preorder request bodies with ``member`` and ``charged``
    (docs/recipes/whatif.md), in time order over ``days`` from ``start``; the same arguments
    always give the same orders."""
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ValidationError(("orders",), orders, "must be a non-negative integer")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError(("seed",), seed, "must be an integer")
    if not isinstance(start, dt.datetime) or start.utcoffset() is None:
        raise ValidationError(("start",), start, "must be a timezone-aware datetime")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 3660:
        raise ValidationError(("days",), days, "must be an integer in 1..3660")
    return _orders(orders, seed, _Clock.of(start, days))


def write_history(
    path_or_stream: str | os.PathLike[str] | IO[str], orders: int, *, seed: int
) -> int:
    """Write ``sample_history`` as JSON Lines; returns the number of orders written."""
    if isinstance(path_or_stream, str | os.PathLike):
        with open(path_or_stream, "w", encoding="utf-8", newline="\n") as stream:
            return write_history(stream, orders, seed=seed)
    written = 0
    for record in sample_history(orders, seed=seed):
        path_or_stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        written += 1
    return written


class _Clock(NamedTuple):
    """The window as cumulative weighted milliseconds, one step per hour: a fixed-size table."""

    start: dt.datetime
    cumulative: tuple[int, ...]  # before each hour; the last is the whole window
    weights: tuple[int, ...]

    @classmethod
    def of(cls, start: dt.datetime, days: int) -> _Clock:
        utc = start.astimezone(dt.UTC)
        weights = []
        for hour in range(days * 24):
            local = utc + dt.timedelta(hours=hour) + _MOSCOW
            weights.append(_WEEKDAY[local.weekday()] * _HOUR[local.hour])
        cumulative = tuple(itertools.accumulate((w * _HOUR_MS for w in weights), initial=0))
        return cls(utc, cumulative, tuple(weights))

    def moment(self, rng: random.Random, index: int, orders: int) -> str:
        """A time in the ``index``-th of ``orders`` equal slices: rising with ``index``."""
        span = self.cumulative[-1]
        point = (index * span + rng.randrange(span)) // orders
        hour = bisect_right(self.cumulative, point) - 1
        ms = (point - self.cumulative[hour]) // self.weights[hour]
        at = self.start + dt.timedelta(hours=hour, milliseconds=ms)
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class _Member(NamedTuple):
    profile_id: str
    tier: str
    segments: list[str]
    tags: list[str]
    scale: int  # typical active balance in points; 0: never has any


def _orders(orders: int, seed: int, clock: _Clock) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    population = max(10, orders // 5)
    for index in range(orders):
        guest = _chance(rng, _GUEST_PERCENT)
        member = None if guest else _member(seed, _rank(rng, population), population)
        yield _order(rng, f"o-{index + 1:06d}", clock.moment(rng, index, orders), member)


def _order(
    rng: random.Random, external_id: str, moment: str, member: _Member | None
) -> dict[str, object]:
    endpoint = _pick(rng, _ENDPOINT)
    lines, total = _lines(rng)
    data: dict[str, object] = {
        "endpoint": endpoint,
        "status": "new",
        "currency": CURRENCY,
        "create_time": moment,
        "total_price": _money(total),
    }
    delivery = 0
    if endpoint != "store" and total < 500_000 and _chance(rng, 75):
        delivery = _pick(rng, _DELIVERY)  # free from 5,000.00, and never in a store
        data["delivery_cost"] = _money(delivery)
    data["lines"] = lines
    if _chance(rng, _CODE_PERCENT):
        code = _pick(rng, _CODE)
        data["promocodes"] = [{"code": code, "pool_id": _POOL[code]}]
    record: dict[str, object] = {"external_id": external_id}
    redeem = 0
    if member is not None:
        active, snapshot = _snapshot(rng, member)
        if active > 0 and _chance(rng, _REDEEM_PERCENT):
            redeem = _redeem_amount(rng, active)
            data["redeem_points"] = [{"points_currency_eid": POINTS, "amount": redeem}]
        record |= {"matching": "profile_id", "profile_id": member.profile_id, "data": data}
        record["member"] = snapshot
    else:
        record["data"] = data
    if _chance(rng, _CHARGED_PERCENT):
        # Kopeks floor-divided: percents round down (ROUND_DOWN; all amounts are non-negative).
        taken = min(redeem * 100, total * 30 // 100)
        if _chance(rng, 40):
            taken += total * rng.randint(1, 10) // 100
        record["charged"] = _money(max(0, total + delivery - taken))
    return record


def _lines(rng: random.Random) -> tuple[list[dict[str, object]], int]:
    """A basket of distinct products; its total in kopeks is Σ base × count, as preorder checks."""
    size = _pick(rng, _BASKET)
    chosen: list[Product] = []
    while len(chosen) < size:
        product = rng.choice(_BY_CATEGORY[_pick(rng, _CATEGORY)])
        if product not in chosen:
            chosen.append(product)
    lines: list[dict[str, object]] = []
    total = 0
    for number, product in enumerate(chosen, start=1):
        price = _price(rng, product.band)
        count = _pick(rng, _GROCERY_COUNT if product.category == "groceries" else _COUNT)
        line: dict[str, object] = {
            "external_id": f"l{number}",
            "product": product.product,
            "base_price_per_item": _money(price),
        }
        if product.category == "electronics" and _chance(rng, 40):
            line["min_price_per_item"] = _money(price * 70 // 100)  # a supplier's floor, ROUND_DOWN
        line["count"] = count
        lines.append(line)
        total += price * count
    return lines, total


def _price(rng: random.Random, band: tuple[int, int]) -> int:
    """A shelf price in kopeks: rubles from the band, cheap ones likelier (the product of two
    uniform draws), coarser for dearer goods, then an ending (which may dip a kopek below it)."""
    low, high = band
    width = high - low
    rubles = low + rng.randint(0, width) * rng.randint(0, width) // max(width, 1)
    step = 1 if rubles < 1000 else 10 if rubles < 10_000 else 100
    rubles = max(low, rubles // step * step)
    return rubles * 100 - _pick(rng, _ENDING)


def _rank(rng: random.Random, population: int) -> int:
    """A member rank in 1..population, P(rank) ∝ 1 / (rank + head), in integers: a uniform
    doubling (octave) of rank + head, then a uniform value in it; one outside is drawn again."""
    head = population // _HEAD_SHARE
    low, high = head + 1, population + head
    while True:
        bits = rng.randint(low.bit_length(), high.bit_length())
        value = rng.randrange(1 << (bits - 1), 1 << bits)
        if low <= value <= high:
            return value - head


def _member(seed: int, rank: int, population: int) -> _Member:
    """Rank ``rank``'s traits, from a hash so they hold at every visit: frequent buyers (low
    ranks) are mostly gold and hold more points; "new" members sit in the tail."""
    digest = hashlib.blake2b(f"{seed}:{rank}".encode(), digest_size=8).digest()
    rest = int.from_bytes(digest, "big")
    rest, tier_noise = divmod(rest, 50)
    rest, segment = divmod(rest, 100)
    rest, newsletter = divmod(rest, 100)
    rest, app = divmod(rest, 100)
    rest, zero = divmod(rest, 100)
    octave = rest % 11
    percentile = (rank - 1) * 100 // population  # 0: the most frequent buyers
    score = percentile + tier_noise - 25
    tier = "gold" if score < 5 else "silver" if score < 30 else "bronze"
    new = percentile >= 50 and segment >= 70
    segments = [
        name
        for name, has in (("new", new), ("vip", (tier == "gold" and segment < 50) or segment < 2))
        if has
    ]
    tags = [
        name
        for name, has in (
            ("app", app < 35),
            ("employee", app == 99),
            ("newsletter", newsletter < 55),
        )
        if has
    ]
    scale = 0 if zero < 30 else (16 << octave) * {"gold": 3, "silver": 2, "bronze": 1}[tier]
    if new:
        scale = min(scale, 500)
    return _Member(f"m-{rank:06d}", tier, segments, tags, scale)


def _snapshot(rng: random.Random, member: _Member) -> tuple[int, dict[str, object]]:
    """The member as they stood at this order: active points near their scale, some pending."""
    active = member.scale * rng.randint(50, 150) // 100
    pending = active * rng.randint(1, 30) // 100 if _chance(rng, 30) else 0
    snapshot: dict[str, object] = {
        "profile_id": member.profile_id,
        "balances": {POINTS: {"active": str(active), "total": str(active + pending)}},
        "tier": member.tier,
        "segments": member.segments,
        "tags": member.tags,
    }
    return active, snapshot


def _redeem_amount(rng: random.Random, active: int) -> int:
    """Points asked for, never above ``active``: everything, or a round part of it."""
    if _chance(rng, 40):
        return active
    amount = rng.randint(1, active)
    return amount - amount % 100 if amount >= 100 else amount


def _pick(rng: random.Random, table: _Table[_T]) -> _T:
    return table.values[bisect_right(table.cumulative, rng.randrange(table.cumulative[-1]))]


def _chance(rng: random.Random, percent: int) -> bool:
    return rng.randrange(100) < percent


def _money(kopeks: int) -> str:
    return f"{kopeks // 100}.{kopeks % 100:02d}"
