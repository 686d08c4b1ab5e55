"""The golden corpus: ``calculate`` answers every stored case byte for byte as it did.

``corpus.jsonl.gz`` (written by ``generate.py`` with the engine of the day it was made) holds
each case's inputs as plain documents and its outcome as canonical JSON texts. Here every case is
read back with the package imported now (``program_from_dict``, ``parse_preorder_request``,
``member_from_dict``), calculated, rendered and compared text for text. The cases run in
``CHUNKS`` tests; a failing one names its cases and the first field each differs in.

``LOYALTY_GOLDEN_CORPUS=PATH`` checks another corpus file instead (to see a failure reported).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from pathlib import Path

import pytest
from encode import Json, Outcome, decode_inputs, describe, outcome

CORPUS = Path(os.environ.get("LOYALTY_GOLDEN_CORPUS", Path(__file__).with_name("corpus.jsonl.gz")))
CHUNKS = 20
SHOWN = 5  # differing cases described in full per chunk; the rest are counted


@functools.cache
def corpus() -> tuple[dict[str, Json], ...]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as file:
        return tuple(json.loads(line) for line in file)


def test_corpus_is_whole() -> None:
    count = len(corpus())
    assert count >= 3000, f"{CORPUS.name} holds {count} cases"
    assert [case["id"] for case in corpus()] == list(range(count)), "ids are not 0, 1, 2, …"


def actual(case: dict[str, Json]) -> Outcome:
    try:
        program, order, member, now, profile_id = decode_inputs(case)
    except Exception as error:  # the inputs no longer read: that is a difference too
        return {"unreadable inputs": f"{type(error).__name__}: {error}"}
    try:
        return outcome(program, order, member, now, profile_id)[0]
    except Exception as error:  # not a LoyaltyError: a crash, named with its case
        return {"crash": f"{type(error).__name__}: {error}"}


@pytest.mark.parametrize("chunk", range(CHUNKS), ids=lambda c: f"chunk{c:02d}")
def test_calculate_matches_the_corpus(chunk: int) -> None:
    cases = corpus()
    size = -(-len(cases) // CHUNKS)
    mine = cases[chunk * size : (chunk + 1) * size]
    differences = [
        text
        for case in mine
        if (text := describe(case["id"], case["expected"], actual(case))) is not None
    ]
    if differences:
        first, last = mine[0]["id"], mine[-1]["id"]
        shown = "\n".join(differences[:SHOWN])
        more = len(differences) - SHOWN
        pytest.fail(
            f"{len(differences)} of cases {first}–{last} differ from {CORPUS.name}:\n{shown}"
            + (f"\n… and {more} more" if more > 0 else ""),
            pytrace=False,
        )
