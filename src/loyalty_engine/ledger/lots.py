"""Lots: the points of one account, sorted by expiration, as a persistent chunked list.

An account with 100,000 open lots must not copy 100,000 entries per operation. ``Lots`` keeps the
lots in chunks of at most ``2 * chunk`` (sorted by (expiration, id); ``chunk`` is 64 unless a test
shrinks it to cross chunk boundaries with a handful of lots), with each chunk's first key and sum
alongside: an update copies one chunk and the (short) tuples of chunk keys and sums, so
insert, take-from-the-front, adjust and range sums cost O(log n + n / CHUNK), and old versions stay
valid. Amounts are integer units of the currency's precision.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

import attrs

CHUNK = 64
FAR = dt.datetime.max.replace(tzinfo=dt.UTC)  # "never expires" sorts last
Key = tuple[dt.datetime, int]


@attrs.frozen(slots=True)
class Lot:
    """What is left of one accrual: ``units`` spendable from ``activation`` until ``expiration``."""

    id: int  # the accrual transaction's id
    units: int
    activation: dt.datetime
    expiration: dt.datetime | None

    @property
    def key(self) -> Key:
        return (self.expiration or FAR, self.id)


def _key(lot: Lot) -> Key:
    return lot.key


@attrs.frozen(slots=True)
class Lots:
    chunks: tuple[tuple[Lot, ...], ...] = ()
    firsts: tuple[Key, ...] = ()  # the first key of each chunk
    sums: tuple[int, ...] = ()
    units: int = 0
    chunk: int = attrs.field(default=CHUNK, kw_only=True, validator=attrs.validators.gt(0))

    def __iter__(self) -> Iterator[Lot]:
        for chunk in self.chunks:
            yield from chunk

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    def _chunk_of(self, key: Key) -> int:
        return max(bisect_right(self.firsts, key) - 1, 0)

    def _replace(self, start: int, stop: int, lots: list[Lot]) -> Lots:
        """Chunks ``start:stop`` replaced by ``lots`` (sorted), split into chunks of ``chunk``."""
        size = self.chunk
        pieces: list[tuple[Lot, ...]] = []
        if len(lots) <= 2 * size:
            if lots:
                pieces.append(tuple(lots))
        else:
            pieces = [tuple(lots[i : i + size]) for i in range(0, len(lots), size)]
        new_sums = tuple(sum(lot.units for lot in piece) for piece in pieces)
        return Lots(
            self.chunks[:start] + tuple(pieces) + self.chunks[stop:],
            self.firsts[:start] + tuple(piece[0].key for piece in pieces) + self.firsts[stop:],
            self.sums[:start] + new_sums + self.sums[stop:],
            self.units - sum(self.sums[start:stop]) + sum(new_sums),
            chunk=size,
        )

    def insert(self, lot: Lot) -> Lots:
        if not self.chunks:
            return self._replace(0, 0, [lot])
        i = self._chunk_of(lot.key)
        chunk = list(self.chunks[i])
        chunk.insert(bisect_left(chunk, lot.key, key=_key), lot)
        return self._replace(i, i + 1, chunk)

    def find(self, key: Key) -> Lot | None:
        if not self.chunks:
            return None
        chunk = self.chunks[self._chunk_of(key)]
        j = bisect_left(chunk, key, key=_key)
        return chunk[j] if j < len(chunk) and chunk[j].key == key else None

    def adjust(self, key: Key, units: int) -> Lots:
        """The lot at ``key`` holding ``units`` instead (removed at zero)."""
        i = self._chunk_of(key)
        chunk = list(self.chunks[i])
        j = bisect_left(chunk, key, key=_key)
        if units:
            chunk[j] = attrs.evolve(chunk[j], units=units)
        else:
            del chunk[j]
        return self._replace(i, i + 1, chunk)

    def take(self, units: int) -> tuple[Lots, tuple[tuple[Lot, int], ...]]:
        """Take ``units`` from the front (soonest-expiring first); ``units`` ≤ ``self.units``."""
        taken: list[tuple[Lot, int]] = []
        i = 0
        while units:
            chunk = self.chunks[i]
            if self.sums[i] <= units:  # the whole chunk goes
                taken.extend((lot, lot.units) for lot in chunk)
                units -= self.sums[i]
                i += 1
                continue
            rest = list(chunk)
            while units:
                lot = rest[0]
                part = min(lot.units, units)
                taken.append((lot, part))
                units -= part
                if part == lot.units:
                    rest.pop(0)
                else:
                    rest[0] = attrs.evolve(lot, units=lot.units - part)
            return self._replace(0, i + 1, rest), tuple(taken)  # the emptied chunks go too
        return self._replace(0, i, []), tuple(taken)

    def expire(self, now: dt.datetime) -> tuple[Lots, tuple[Lot, ...]]:
        """Remove the lots whose expiration is at or before ``now``; they come first."""
        gone: list[Lot] = []
        i = 0
        while i < len(self.chunks) and self.firsts[i][0] <= now:
            chunk = self.chunks[i]
            cut = bisect_right(chunk, now, key=lambda lot: lot.key[0])
            gone.extend(chunk[:cut])
            if cut < len(chunk):
                return self._replace(0, i + 1, list(chunk[cut:])), tuple(gone)
            i += 1
        return (self._replace(0, i, []) if i else self), tuple(gone)

    def units_expiring(self, start: dt.datetime, end: dt.datetime) -> int:
        """Σ units of the lots expiring in [start, end], both ends included."""
        lo, hi = (start, -1), (end, 2**63)
        first, last = self._chunk_of(lo), self._chunk_of(hi)
        total = 0
        for i in range(first, last + 1):
            chunk = self.chunks[i] if self.chunks else ()
            if chunk and lo <= chunk[0].key and chunk[-1].key <= hi:
                total += self.sums[i]
            else:
                total += sum(lot.units for lot in chunk if start <= lot.key[0] <= end)
        return total
