"""Lots: the chunked sorted list, against a plain sorted list, across chunk boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st

from loyalty_engine import PointsCurrency
from loyalty_engine.ledger import Account
from loyalty_engine.ledger.lots import FAR, Lot, Lots

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_a_redemption_across_chunks_spends_each_point_once() -> None:
    """129 lots of 1 and a redemption of 100: 29 left, and 90 more is refused (was: 93 active)."""
    account = Account.open("p1", PointsCurrency(eid="bonus"))
    for _ in range(129):
        account = account.accrue(Decimal(1), now=T0).account
    account = account.redeem(Decimal(100), now=T0).account
    balance = account.balance(T0)
    assert (balance.active, balance.total) == (29, 29)
    assert len(account.lots) == 29 and account.lots.units == 29


# An operation on the lots: insert a lot, take units from the front, adjust or expire. Small
# lots, and more inserts than anything else, so that takes often span several chunks.
INSERT = st.tuples(st.just("insert"), st.integers(1, 5), st.integers(0, 40) | st.none())
OPERATIONS = st.lists(
    st.one_of(
        INSERT,
        INSERT,
        INSERT,
        st.tuples(st.just("take"), st.integers(0, 30), st.none()),
        st.tuples(st.just("adjust"), st.integers(0, 10**6), st.integers(0, 30)),
        st.tuples(st.just("expire"), st.integers(0, 40), st.none()),
    ),
    min_size=10,
    max_size=80,
)


@given(chunk=st.integers(1, 3), operations=OPERATIONS)
def test_lots_behave_like_a_sorted_list(
    chunk: int, operations: list[tuple[str, int, int | None]]
) -> None:
    """Every operation gives what a plain sorted list gives: same lots, sums and takings."""
    lots = Lots(chunk=chunk)
    plain: list[Lot] = []
    next_id = 1
    for name, a, b in operations:
        if name == "insert":
            expiration = None if b is None else T0 + dt.timedelta(days=b)
            lot = Lot(id=next_id, units=a, activation=T0, expiration=expiration)
            next_id += 1
            lots = lots.insert(lot)
            plain = sorted([*plain, lot], key=lambda x: x.key)
        elif name == "take":
            units = min(a, sum(x.units for x in plain))
            used = [sum(lots.sums[: i + 1]) for i in range(len(lots.sums))]
            event(f"take empties {min(sum(1 for u in used if u <= units), 3)} chunk(s)")
            lots, taken = lots.take(units)
            expected, left = [], units
            while left:
                part = min(plain[0].units, left)
                expected.append((plain[0], part))
                left -= part
                if part == plain[0].units:
                    plain.pop(0)
                else:
                    plain[0] = Lot(plain[0].id, plain[0].units - part, T0, plain[0].expiration)
            assert list(taken) == expected
        elif name == "adjust" and plain:
            target = plain[a % len(plain)]
            lots = lots.adjust(target.key, b or 0)
            index = plain.index(target)
            if b:
                plain[index] = Lot(target.id, b, T0, target.expiration)
            else:
                del plain[index]
        elif name == "expire":
            moment = T0 + dt.timedelta(days=a)
            lots, gone = lots.expire(moment)
            assert list(gone) == [x for x in plain if (x.expiration or FAR) <= moment]
            plain = [x for x in plain if (x.expiration or FAR) > moment]
        assert list(lots) == plain
        assert lots.units == sum(x.units for x in plain) == sum(lots.sums)
        assert len(lots) == len(plain)
        assert all(len(c) <= 2 * chunk for c in lots.chunks) and all(lots.chunks)
        assert list(lots.firsts) == [c[0].key for c in lots.chunks]
        for x in plain:
            assert lots.find(x.key) == x
            assert lots.find((x.key[0], x.key[1] + 10**6)) is None  # past its chunk's end too
        start, end = T0 + dt.timedelta(days=5), T0 + dt.timedelta(days=25)
        assert lots.units_expiring(start, end) == sum(
            x.units for x in plain if x.expiration is not None and start <= x.expiration <= end
        )


def test_every_path_across_chunk_boundaries_by_example() -> None:
    """Chunks of 1–2 lots, 200 lots expiring a day apart: adjust, expire, sum and take across."""
    day = dt.timedelta(days=1)
    lots = Lots(chunk=1)
    for i in range(1, 201):
        lots = lots.insert(Lot(id=i, units=1, activation=T0, expiration=T0 + i * day))
    assert len(lots.chunks) > 50 and lots.units == 200
    # adjust a lot in the first chunk: every other chunk stays
    lots = lots.adjust((T0 + day, 1), 5)
    assert lots.units == 204 and len(lots) == 200
    # ids past 126 expiring exactly at the range's end still count
    for end in range(127, 201):  # whichever chunk the lot expiring at ``end`` starts
        assert lots.units_expiring(T0 + 150 * day, T0 + end * day) == max(0, end - 149)
    assert lots.units_expiring(T0, T0 + 3 * day) == 7
    # expire across a boundary, mid-chunk: the lots after it stay
    lots, gone = lots.expire(T0 + 10 * day)
    assert [lot.id for lot in gone] == list(range(1, 11)) and lots.units == 190
    assert [lot.id for lot in lots][:3] == [11, 12, 13] and len(lots) == 190
    # take across many chunks
    lots, taken = lots.take(95)
    assert [lot.id for lot, _ in taken] == list(range(11, 106)) and lots.units == 95
    assert [lot.id for lot in lots] == list(range(106, 201))
