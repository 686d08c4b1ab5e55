"""Code pools: which codes an order takes, and which codes a customer may use."""

from __future__ import annotations

import datetime as dt

import loyalty_engine as le

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
POOL = le.CodePool(
    pool_id=1,
    name="Gifts",
    codes=[le.PoolCode("A"), le.PoolCode("B", T0), le.PoolCode("C"), le.PoolCode("D")],
)


def test_codes_are_taken_in_pool_order_from_the_spread_on_and_wrap() -> None:
    """Live codes only (B expired at T0); the spread is taken modulo the live ones."""
    assert POOL.issue(2, T0)[1] == ("A", "C")
    assert POOL.issue(2, T0, spread=1)[1] == ("C", "D")
    assert POOL.issue(2, T0, spread=2)[1] == ("D", "A")
    assert POOL.issue(2, T0, spread=4)[1] == ("C", "D")
    rest, taken = POOL.issue(9, T0, spread=2)
    assert taken == ("D", "A", "C") and [c.code for c in rest.codes] == ["B"]


def test_a_universal_code_ignores_the_spread() -> None:
    pool = le.CodePool(pool_id=2, name="All", reuse="multiple", codes=[le.PoolCode("X")])
    assert pool.issue(3, T0, spread=7) == (pool, ("X",))
    assert pool.accepts("X") and pool.use("X") == pool
