"""Promo-code pools as values: the codes a ``code_issue`` promotion hands out at commit.

``single`` pools hand each code out once and accept it once; a ``multiple`` pool's codes are
universal (everyone gets and may use the same code). Codes past ``expires_at`` are never issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

import attrs

from .model import aware, identifier, not_blank, to_texts
from .validators import one_of, tuple_of, typed


@typed
@attrs.frozen
class PoolCode:
    """One code of a pool, live until ``expires_at`` (never, when absent)."""

    code: str = attrs.field(validator=not_blank)
    expires_at: dt.datetime | None = attrs.field(default=None, validator=aware)

    def live(self, now: dt.datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def _codes(values: Iterable[PoolCode]) -> tuple[PoolCode, ...]:
    return tuple_of(values, PoolCode, "codes")


def _used(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "used")


@typed
@attrs.frozen(kw_only=True)
class CodePool:
    """``codes``: still to hand out, in order; ``used``: codes customers have redeemed."""

    pool_id: int = attrs.field(validator=identifier)
    name: str = attrs.field(validator=not_blank)
    reuse: Literal["single", "multiple"] = attrs.field(
        default="single", validator=one_of(("single", "multiple"))
    )
    codes: tuple[PoolCode, ...] = attrs.field(default=(), converter=_codes)
    used: frozenset[str] = attrs.field(default=frozenset(), converter=_used)

    def issue(
        self, count: int, now: dt.datetime, *, spread: int = 0
    ) -> tuple[CodePool, tuple[str, ...]]:
        """Up to ``count`` live codes, in pool order from live code ``spread`` (modulo their
        number) on; fewer when the pool runs dry. Orders that differ in ``spread`` take
        different codes, so concurrent commits from one pool seldom want the same code.

        A ``multiple`` pool's code is universal: it is handed out once, and that is the whole
        of any ``count`` (three copies of one code are not three codes).
        """
        live = [c for c in self.codes if c.live(now)]
        if self.reuse == "multiple":
            return self, (live[0].code,) if live else ()
        start = spread % len(live) if live else 0
        chosen = (live[start:] + live[:start])[:count]
        taken = {c.code for c in chosen}
        rest = tuple(c for c in self.codes if c.code not in taken)
        return attrs.evolve(self, codes=rest), tuple(c.code for c in chosen)

    def accepts(self, code: str) -> bool:
        """Whether a customer may still use ``code`` (a single-use code works once)."""
        return self.reuse == "multiple" or code not in self.used

    def use(self, code: str) -> CodePool:
        return self if self.reuse == "multiple" else attrs.evolve(self, used=self.used | {code})
