"""What a store process remembers between reads: the members it replayed last, the rows it
decoded. Keyed by content, so a hit never stands in for a row whose values changed: a member's
replay is reused only for rows equal to those it was built from (``Membership.from_rows(known=…)``
compares them), and a decoded row only for the same stored text."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from ..errors import ValidationError

K = TypeVar("K")
V = TypeVar("V")

# per cache; a remembered row costs about 2 KB (measured: SQLite, both caches, rows shared), so
# an SQLite store holds at most about 100 MB, and most far less
REMEMBERED_ROWS = 50_000


class Recent(Generic[K, V]):
    """A thread-safe map that keeps its most recently used entries within a total weight
    (rows): the least recently used go first. An entry heavier than the budget is not kept."""

    def __init__(self, budget: int = REMEMBERED_ROWS) -> None:
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
            raise ValidationError(("budget",), budget, "must be a count of rows, 0 or more")
        self.budget = budget
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, weight: int) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            if weight > self.budget:
                return
            self._entries[key] = (value, weight)
            self._weight += weight
            while self._weight > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def __len__(self) -> int:
        return len(self._entries)
