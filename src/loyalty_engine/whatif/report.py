"""The what-if report: merged tallies, as a JSON document (docs/recipes/whatif.md) and a
terminal table.

The document is the one artefact: the HTML page and the table are drawn from it, so a saved
``report.json`` can be shown again without replaying anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ..money import money_text
from .history import BadRecord
from .tally import BUCKET_NAMES, ComparisonTally, MoneyTally, ProgramTally

if TYPE_CHECKING:
    from .run import ChunkResult

FORMAT = "loyalty-engine/whatif"
LISTED_BAD = 100  # bad lines listed in the report; all are counted (and reported one by one)
Document = dict[str, Any]


@attrs.define
class Report:
    """What the replay found, merged chunk by chunk in history order."""

    names: tuple[str, ...]
    tallies: tuple[ProgramTally, ...]
    comparisons: tuple[ComparisonTally, ...]
    lines: int = 0
    bad: int = 0
    listed: list[BadRecord] = attrs.Factory(list)

    @classmethod
    def empty(cls, names: Sequence[str]) -> Report:
        return cls(tuple(names), tuple(ProgramTally() for _ in names),
                   tuple(ComparisonTally() for _ in names[1:]))  # fmt: skip

    def merge(self, result: ChunkResult) -> None:
        for mine, theirs in zip(self.tallies, result.tallies, strict=True):
            mine.merge(theirs)
        for ours, more in zip(self.comparisons, result.comparisons, strict=True):
            ours.merge(more)
        self.lines += result.lines
        self.bad += len(result.bad)
        self.listed.extend(result.bad[: LISTED_BAD - len(self.listed)])

    def document(self) -> Document:
        """The report as docs/recipes/whatif.md describes it; keys sorted when dumped."""
        return {
            "format": FORMAT,
            "version": 1,
            "history": {"lines": self.lines, "orders": self.lines - self.bad, "bad": self.bad},
            "baseline": self.names[0],
            "programs": {n: _program(t) for n, t in zip(self.names, self.tallies, strict=True)},
            "comparisons": {
                name: _comparison(self.names[0], c)
                for name, c in zip(self.names[1:], self.comparisons, strict=True)
            },
            "bad_records": [{"line": b.line, "reason": b.reason} for b in self.listed],
        }


def _points(points: Mapping[str, Decimal]) -> dict[str, str]:
    return {eid: format(points[eid], "f") for eid in sorted(points)}


def _moved(accrued: Mapping[str, Decimal], redeemed: Mapping[str, Decimal]) -> Document:
    """Points accrued and redeemed per currency, zero where one side has none."""
    zero = Decimal(0)
    return {
        eid: {"accrued": format(accrued.get(eid, zero), "f"),
              "redeemed": format(redeemed.get(eid, zero), "f")}
        for eid in sorted(set(accrued) | set(redeemed))
    }  # fmt: skip


def _sums(currency: str, money: MoneyTally) -> dict[str, object]:
    out: dict[str, object] = {
        "orders": money.orders,
        "before": money_text(money.before, currency),
        "after": money_text(money.after, currency),
        "discount": money_text(money.before - money.after, currency),
    }
    if money.charged_orders:
        out["charged"] = money_text(money.charged, currency)
    return out


def _program(tally: ProgramTally) -> Document:
    return {
        "orders": tally.orders,
        "refused": dict(sorted(tally.refused.items())),
        "money": {c: _sums(c, tally.money[c]) for c in sorted(tally.money)},
        "points": _moved(tally.accrued, tally.redeemed),
        "promotions": [
            {
                "type": kind,
                "external_id": key,
                "name": p.name,
                "orders": p.orders,
                "cost": {c: money_text(p.cost[c], c) for c in sorted(p.cost)},
                "points": _points(p.points),
            }
            for (kind, key), p in sorted(tally.promotions.items())
        ],
        "discount_per_order": [
            {"bucket": name, "orders": n}
            for name, n in zip(BUCKET_NAMES, tally.buckets, strict=True)
        ],
    }


def _comparison(baseline: str, tally: ComparisonTally) -> Document:
    return {
        "against": baseline,
        "compared": tally.compared,
        "changed": tally.changed,
        "cheaper": tally.cheaper,
        "dearer": tally.dearer,
        "money": {
            c: {"after": money_text(d, c), "discount": money_text(-d, c)}
            for c, d in sorted(tally.after.items())
        },
        "points": _moved(tally.accrued, tally.redeemed),
    }


def render_table(document: Mapping[str, Any]) -> str:
    """The headline figures side by side, one column a program (and one a comparison)."""
    names = list(document["programs"])
    programs = [document["programs"][n] for n in names]
    history = document["history"]
    rows: list[list[str]] = [["", *names]]

    def row(label: str, cells: Sequence[object]) -> None:
        rows.append([label, *("" if c is None else str(c) for c in cells)])

    row("orders calculated", [p["orders"] for p in programs])
    row("orders refused", [sum(p["refused"].values()) for p in programs])
    currencies = sorted({c for p in programs for c in p["money"]})
    for c in currencies:
        for key, label in (("before", "revenue before"), ("after", "revenue after"),
                           ("discount", "discount cost")):  # fmt: skip
            row(f"{c} {label}", [p["money"].get(c, {}).get(key) for p in programs])
    for e in sorted({e for p in programs for e in p["points"]}):
        for key in ("accrued", "redeemed"):
            row(f"{e} points {key}", [p["points"].get(e, {}).get(key) for p in programs])
    for name, comparison in document["comparisons"].items():
        pad: list[object] = [None] * names.index(name)  # the figure goes in the program's column
        row(f"changed vs {comparison['against']}", [*pad, comparison["changed"]])
        row("  cheaper / dearer", [*pad, f"{comparison['cheaper']} / {comparison['dearer']}"])
        for c, delta in comparison["money"].items():
            row(f"  {c} Δ revenue after", [*pad, delta["after"]])
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"what-if: {history['lines']} lines, {history['orders']} orders, {history['bad']} bad"
        f" (baseline {document['baseline']})"
    ]
    for r in rows:
        cells = [*r, *[""] * (len(widths) - len(r))]
        right = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        lines.append("  ".join([cells[0].ljust(widths[0]), *right]))
    lines.append("")
    lines.append("promotions: orders (money off; points moved)")
    uses = [{(u["type"], u["external_id"]): u for u in p["promotions"]} for p in programs]
    for promotion in sorted({k for found in uses for k in found}):
        shown: list[str] = []
        for name, found in zip(names, uses, strict=True):
            use = found.get(promotion)
            if use is None:
                shown.append(f"{name} –")
                continue
            moved = [f"{v} {c}" for c, v in use["cost"].items() if Decimal(v)]
            moved += [f"{v} {e}" for e, v in use["points"].items()]
            shown.append(f"{name} {use['orders']} ({', '.join(moved) or 'nothing'})")
        lines.append(f"  {promotion[0]} {promotion[1]}: " + "; ".join(shown))
    return "\n".join(lines)
