"""The what-if report (docs/recipes/whatif.md) as one HTML page a loyalty manager opens from disk.

How this works: the tables show the report's figures as the exact decimal strings it holds; only
chart coordinates become ``float``, because plotly draws numbers and a bar needs no kopek. The
page is self-contained: plotly.js is inlined once (with the first chart) and nothing is fetched,
so it opens from ``file://`` offline. Every text that comes from the report is escaped, in the
tables and in the charts too (plotly reads labels as HTML); plotly writes its JSON with ``<``,
``>`` and ``/`` escaped, so no label can close the chart's ``<script>``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import ValidationError

_NEEDS_PLOTLY = "the HTML report needs plotly: pip install 'loyalty-engine[whatif]'"
# a promotion is (type, external_id): one id may name an accrual and a redemption
Key = tuple[str, str]
Uses = Mapping[str, Mapping[Key, Mapping[str, Any]]]  # program → its promotions by key
_NONE = "—"
_MONEY = (
    ("orders", "orders"),
    ("before", "revenue before discounts"),
    ("after", "revenue after discounts"),
    ("discount", "discount cost"),
    ("charged", "charged (history)"),
)
_PLOT = {"displaylogo": False, "responsive": True}  # the logo is the one link off the machine
_CHART_HEIGHT = 400
_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
       margin: 0; background: #f6f7f9; }
main { max-width: 1240px; margin: 0 auto; padding: 16px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 16px 0 4px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 4px 20px 16px;
          margin-bottom: 16px; }
.table { overflow-x: auto; }  /* a wide table scrolls, the page does not */
table { border-collapse: collapse; margin: 12px 0; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e6e9ed; padding: 4px 8px; vertical-align: top; }
thead th { background: #f0f2f5; }
tbody th { font-weight: 500; min-width: 10em; }
.num { text-align: right; } td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.text { text-align: left; }
.muted { color: #66707c; }
"""


def require_plotly() -> Any:
    """plotly's ``graph_objects``, or the error naming the extra: call it before a long replay."""
    try:
        import plotly.graph_objects as go  # type: ignore[import-untyped]
    except ImportError:
        raise ValidationError(("html",), "plotly", _NEEDS_PLOTLY) from None
    return go


def render_html(report: Mapping[str, object]) -> str:
    """The report as one self-contained page: exact figures in tables, plotly charts, no network.

    ``report`` is the document ``whatif`` writes; anything else is a ``ValidationError``.
    """
    go = require_plotly()
    if report.get("format") != "loyalty-engine/whatif" or report.get("version") != 1:
        raise ValidationError(("format",), report.get("format"), "not a what-if report, version 1")
    doc: Mapping[str, Any] = report
    try:
        return _page(doc, go)
    except (LookupError, TypeError, ValueError, AttributeError) as error:  # a hand-edited report
        reason = "not the shape docs/recipes/whatif.md describes"
        raise ValidationError(("report",), f"{type(error).__name__}: {error}", reason) from None


def _page(doc: Mapping[str, Any], go: Any) -> str:
    baseline: str = doc["baseline"]
    # columns and traces in run order, the baseline first even where the keys came sorted
    programs: Mapping[str, Any] = {baseline: doc["programs"][baseline], **doc["programs"]}
    others = [name for name in programs if name in doc["comparisons"]]
    uses = {
        name: {(p["type"], p["external_id"]): p for p in program["promotions"]}
        for name, program in programs.items()
    }
    history = doc["history"]
    figures = [("chart-discount-per-order", _discount_chart(programs, go))]
    costs = _cost_charts(uses, go)
    figures += [(f"chart-promotion-cost-{n}", figure) for n, figure in enumerate(costs)]
    charts = [
        figure.to_html(
            full_html=False,
            include_plotlyjs=n == 0,
            div_id=div_id,
            config=_PLOT,
            default_height=f"{_CHART_HEIGHT}px",
        )
        for n, (div_id, figure) in enumerate(figures)
    ]
    names = ", ".join(programs)
    sections = [
        f"<h1>What-if: {_esc(names)}</h1>",
        f'<p class="muted">{_esc(history["lines"])} history lines: {_esc(history["orders"])} '
        f"orders, {_esc(history['bad'])} bad. Baseline: <b>{_esc(baseline)}</b>; differences "
        "are each program minus the baseline. Tables show the report's exact figures; charts "
        "are drawn from them rounded.</p>",
        _section("Headline figures", _headline(doc, programs, others)),
        _section("Against the baseline", _comparisons(doc, others)),
        _section("Points liability", _points(doc, programs, others)),
        _section("Discount per order", charts[0]),
        _section("Promotions", _promotions(uses) + "".join(charts[1:])),
        _section("Bad records", _bad(history["bad"], doc["bad_records"])),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>What-if: {_esc(names)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )


def _headline(doc: Mapping[str, Any], programs: Mapping[str, Any], others: list[str]) -> str:
    reasons = _union(program["refused"] for program in programs.values())
    orders = [
        ["calculated", *(program["orders"] for program in programs.values())],
        *(
            [f"refused: {reason}", *(p["refused"].get(reason, 0) for p in programs.values())]
            for reason in reasons
        ),
    ]
    tables = [_table("orders", "Orders", ["", *programs], orders)]
    for currency in _union(program["money"] for program in programs.values()):
        rows = [
            [
                label,
                *(
                    program["money"].get(currency, {}).get(key, _NONE)
                    for program in programs.values()
                ),
                *(_delta(doc, other, "money", currency, key) for other in others),
            ]
            for key, label in _MONEY
            if any(key in program["money"].get(currency, {}) for program in programs.values())
        ]
        head = ["", *programs, *(_delta_head(doc, other) for other in others)]
        tables.append(_table(f"money-{currency}", f"Money, {currency}", head, rows))
    return "".join(tables)


def _comparisons(doc: Mapping[str, Any], others: list[str]) -> str:
    rows = [
        [
            other,
            doc["comparisons"][other]["against"],
            *(
                doc["comparisons"][other][key]
                for key in ("compared", "changed", "cheaper", "dearer")
            ),
        ]
        for other in others
    ]
    head = ["program", "against", "orders compared", "changed", "cheaper for the customer",
            "dearer"]  # fmt: skip
    return _table("comparisons", "Orders whose total or points differ", head, rows, text=1)


def _points(doc: Mapping[str, Any], programs: Mapping[str, Any], others: list[str]) -> str:
    rows = [
        [
            f"{key} {currency}",
            *(program["points"].get(currency, {}).get(key, _NONE) for program in programs.values()),
            *(_delta(doc, other, "points", currency, key) for other in others),
        ]
        for currency in _union(program["points"] for program in programs.values())
        for key in ("accrued", "redeemed")
    ]
    head = ["", *programs, *(_delta_head(doc, other) for other in others)]
    return _table("points", "Points accrued and redeemed", head, rows)


def _promotions(uses: Uses) -> str:
    head = ["promotion", "id", "type"]
    for name in uses:
        head += [f"{name}: orders", f"{name}: cost", f"{name}: points"]
    rows = []
    for (kind, eid), name in _names(uses).items():
        row: list[object] = [name, eid, kind]
        for found in uses.values():
            promotion = found.get((kind, eid))
            if promotion is None:
                row += [_NONE] * 3
            else:
                row += [
                    promotion["orders"],
                    _amounts(promotion["cost"]),
                    _amounts(promotion["points"]),
                ]
        rows.append(row)
    return _table("promotions", "Cost and uses per promotion", head, rows, text=2)


def _bad(count: int, records: Sequence[Mapping[str, Any]]) -> str:
    text = f"<p>{_esc(count)} history lines are no order at all (the same for every program)."
    if not records:
        return text + "</p>"
    rows = [[record["line"], record["reason"]] for record in records]
    table = _table("bad-records", "Bad history lines", ["line", "reason"], rows, text=1)
    return text + f" The report lists the first {len(records)}:</p>" + table


def _discount_chart(programs: Mapping[str, Any], go: Any) -> Any:
    figure = go.Figure(
        [
            go.Bar(
                name=_label(name),
                x=[_label(bucket["bucket"]) for bucket in program["discount_per_order"]],
                y=[bucket["orders"] for bucket in program["discount_per_order"]],
            )
            for name, program in programs.items()
        ]
    )
    return _layout(figure, "discount as a share of the base total", "orders")


def _cost_charts(uses: Uses, go: Any) -> list[Any]:
    """One chart per currency promotions took money in; bars are at plotly's float precision."""
    names = _names(uses)
    charts = []
    for currency in _union(p["cost"] for found in uses.values() for p in found.values()):
        keys = [  # a points promotion costs 0.00: no bar to draw
            key
            for key in names
            if any(_coordinate(_cost(found, key).get(currency)) for found in uses.values())
        ]
        if not keys:
            continue
        x = [f"{kind} {eid}" for kind, eid in keys]  # unique, where names may not be
        labels = [_label(names[key]) for key in keys]
        traces = [
            go.Bar(
                name=_label(name),
                x=x,
                y=[_coordinate(_cost(found, key).get(currency)) for key in keys],
                customdata=labels,
                hovertemplate=f"%{{customdata}}: %{{y:,.2f}} {_label(currency)}",
            )
            for name, found in uses.items()
        ]
        figure = _layout(go.Figure(traces), "promotion", f"cost, {_label(currency)}")
        figure.update_xaxes(tickmode="array", tickvals=x, ticktext=labels)
        charts.append(figure)
    return charts


def _layout(figure: Any, x_title: str, y_title: str) -> Any:
    figure.update_layout(
        template="plotly_white",
        barmode="group",
        height=_CHART_HEIGHT,
        margin={"l": 60, "r": 20, "t": 20, "b": 60},
        legend={"orientation": "h", "y": 1.08},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return figure


def _names(uses: Uses) -> dict[Key, str]:
    """Every promotion's name, in the report's order (type, id); the first program's wins."""
    names: dict[Key, str] = {}
    for found in uses.values():
        for key, promotion in found.items():
            names.setdefault(key, promotion["name"])
    return dict(sorted(names.items()))


def _cost(found: Mapping[Key, Mapping[str, Any]], key: Key) -> Mapping[str, str]:
    return found[key]["cost"] if key in found else {}


def _coordinate(amount: str | None) -> float | None:
    """A chart coordinate: the one place a decimal string becomes a float."""
    return None if amount is None else float(amount)


def _delta(doc: Mapping[str, Any], other: str, kind: str, currency: str, key: str) -> object:
    return doc["comparisons"][other][kind].get(currency, {}).get(key, _NONE)


def _delta_head(doc: Mapping[str, Any], other: str) -> str:
    return f"{other} − {doc['comparisons'][other]['against']}"


def _amounts(amounts: Mapping[str, str]) -> list[str]:
    return [f"{amount} {unit}" for unit, amount in amounts.items()] or [_NONE]


def _union(mappings: Iterable[Mapping[str, Any]]) -> list[str]:
    """Keys of several mappings, each once, in first-seen order (the report's order)."""
    return list(dict.fromkeys(key for mapping in mappings for key in mapping))


def _section(title: str, body: str) -> str:
    return f"<section>\n<h2>{_esc(title)}</h2>\n{body}\n</section>"


def _table(
    table_id: str,
    caption: str,
    head: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    text: int = 0,
) -> str:
    """Row labels first, then ``text`` columns of words, then figures (right-aligned).

    A cell that is a list is shown one item a line.
    """
    kinds = ["text"] * (1 + text) + ["num"] * (len(head) - 1 - text)
    cells = "".join(
        f'<th class="{kind}">{_esc(label)}</th>' for kind, label in zip(kinds, head, strict=True)
    )
    body = "".join(
        f'<tr><th scope="row" class="text">{_esc(row[0])}</th>'
        + "".join(_cell(value, kind) for kind, value in zip(kinds[1:], row[1:], strict=True))
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table"><table id="{_esc(table_id)}">\n<caption>{_esc(caption)}</caption>\n'
        f"<thead><tr>{cells}</tr></thead>\n<tbody>{body}</tbody>\n</table></div>\n"
    )


def _cell(value: object, kind: str) -> str:
    lines = value if isinstance(value, list) else [value]
    return f'<td class="{kind}">' + "<br>".join(_esc(line) for line in lines) + "</td>"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _label(value: object) -> str:
    """A chart text: plotly reads it as HTML but decodes only some entities (not ``&quot;``)."""
    return html.escape(str(value), quote=False)
