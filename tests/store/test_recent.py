"""``Recent``: what a store remembers stays within its budget of rows, least recent out first."""

from __future__ import annotations

import threading

import pytest

from loyalty_engine.errors import ValidationError
from loyalty_engine.store import Recent


def test_the_least_recently_used_go_first_within_the_budget() -> None:
    recent: Recent[str, int] = Recent(budget=10)
    recent.put("a", 1, weight=4)
    recent.put("b", 2, weight=4)
    assert recent.get("a") == 1  # now b is the least recent
    recent.put("c", 3, weight=4)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    recent.put("a", 4, weight=6)  # replacing weighs the new entry only: 6 + 4
    assert (recent.get("a"), recent.get("c"), len(recent)) == (4, 3, 2)


def test_an_entry_heavier_than_the_budget_is_not_kept() -> None:
    recent: Recent[str, int] = Recent(budget=10)
    recent.put("a", 1, weight=3)
    recent.put("big", 2, weight=11)
    recent.put("a", 5, weight=11)  # nor is a heavier value for a kept key: it is dropped
    assert (recent.get("big"), recent.get("a"), len(recent)) == (None, None, 0)


def test_threads_keep_the_weight_within_the_budget() -> None:
    recent: Recent[int, int] = Recent(budget=50)

    def work(offset: int) -> None:
        for i in range(2_000):
            recent.put((offset + i) % 97, i, weight=1 + i % 5)
            recent.get((offset + 3 * i) % 97)

    threads = [threading.Thread(target=work, args=(n * 13,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0 < len(recent) <= 50
    assert recent._weight == sum(weight for _, weight in recent._entries.values()) <= 50


@pytest.mark.parametrize("budget", [-1, 1.5, "10", True, None])
def test_a_budget_is_a_count_of_rows(budget: object) -> None:
    with pytest.raises(ValidationError, match="budget: must be a count of rows"):
        Recent(budget)  # type: ignore[arg-type]
