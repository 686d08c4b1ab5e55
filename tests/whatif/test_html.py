"""The what-if HTML page (``whatif/html.py``): exact figures, escaped texts, no network, and
charts a real browser draws.

The structure tests read the page with the standard library's HTML parser. The browser test
opens the written file in Debian's Chromium through playwright, refuses every request that is not
``file://``, and checks the screenshots are pictures, not blank areas. Without Chromium, playwright
or Pillow it is skipped, except under ``CI``, where it fails: CI must install them.
"""

from __future__ import annotations

import copy
import html
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Collection
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from loyalty_engine.errors import LoyaltyError, ValidationError
from loyalty_engine.whatif.html import render_html, require_plotly

REPORT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "report_fixture.json").read_text(encoding="utf-8")
)
HOSTILE = 'Spring −10%: "double" <script>alert(1)</script> & friends'
BREAKOUT = "Birthday 15% </script><b>bold</b>"
CHARTS = ("chart-discount-per-order", "chart-promotion-cost-0")
# the RUB cost chart's ticks: promotions that took roubles in either program, by type and id
# (the accruals, which cost "0.00", have no bar)
COST_TICKS = [
    BREAKOUT,  # discount birthday15
    "Free delivery over 3000",
    HOSTILE,  # discount spring10
    "VIP 5% off",
    "Welcome: 500 RUB off the first order",
    "Pay with bonus points",  # redeem_points bonus
]
PAGE = render_html(REPORT)


class _Tables(HTMLParser):
    """Every ``<table id>`` of a page as rows of cell texts (entities decoded), and every script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.scripts: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs)["id"] or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")
        elif tag == "script":
            self._script = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self._script.append(data)


def parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    parser.close()
    return parser


def rows(table: list[list[str]]) -> dict[str, list[str]]:
    """A table's rows by their label (the first cell)."""
    return {row[0]: row[1:] for row in table}


# --- structure -----------------------------------------------------------------------------------


def test_page_is_self_contained_with_plotly_inlined_once() -> None:
    """plotly.js is in the page exactly once, and nothing outside it points off the machine."""
    plotly_js = get_plotlyjs()
    assert PAGE.count(plotly_js) == 1
    ours = PAGE.replace(plotly_js, "").lower()  # the bundle names URLs in code it never runs here
    for marker in ('src="http', "src='http", 'href="http', "href='http", "@import", "url(http"):
        assert marker not in ours
    assert not re.search(r"<script[^>]*\ssrc\s*=", ours)
    assert "<link" not in ours
    assert "cdn" not in ours


def test_headline_figures_are_the_reports_exact_strings() -> None:
    """Money, orders and points cells hold the report's strings as written, per program."""
    tables = parse(PAGE).tables
    money = rows(tables["money-RUB"])
    assert money[""] == ["current", "proposed", "proposed − current"]
    assert money["revenue before discounts"] == ["25013467.90", "25008911.40", "—"]
    assert money["revenue after discounts"] == ["23519524.80", "23367185.20", "-152339.60"]
    assert money["discount cost"] == ["1493943.10", "1641726.20", "147783.10"]
    assert money["charged (history)"] == ["23519880.40", "23515477.10", "—"]
    assert money["orders"] == ["9998", "9996", "—"]
    labels = {"before": "revenue before discounts", "after": "revenue after discounts",
              "discount": "discount cost", "charged": "charged (history)"}  # fmt: skip
    for column, program in enumerate(REPORT["programs"].values()):
        for key, label in labels.items():
            assert money[label][column] == program["money"]["RUB"][key]
    orders = rows(tables["orders"])
    assert orders["calculated"] == ["9998", "9996"]
    assert orders["refused: promotion 'vip5': tier 'platinum' is not defined"] == ["0", "2"]
    points = rows(tables["points"])
    assert points["accrued bonus1"] == ["250134", "264481", "14347"]
    assert points["redeemed bonus1"] == ["45600", "46500", "900"]
    assert rows(tables["comparisons"])["proposed"] == ["current", "9996", "3412", "3001", "411"]


def test_promotion_table_has_uses_cost_and_points_per_program() -> None:
    """One row a promotion (by type and id: ``bonus`` accrues and redeems), for each program its
    orders, cost and points, or a dash."""
    table = rows(parse(PAGE).tables["promotions"])
    assert table["promotion"] == [
        "id", "type",
        "current: orders", "current: cost", "current: points",
        "proposed: orders", "proposed: cost", "proposed: points",
    ]  # fmt: skip
    assert table[HOSTILE] == [
        "spring10", "discount", "3120", "812344.10 RUB", "—", "3118", "811902.60 RUB", "—"
    ]  # fmt: skip
    assert table["Pay with bonus points"] == [
        "bonus", "redeem_points",
        "912", "45600.00 RUB", "45600 bonus1", "930", "46500.00 RUB", "46500 bonus1",
    ]  # fmt: skip
    assert table["1% back in bonus points"] == [
        "bonus", "accrue_points",
        "9998", "0.00 RUB", "177634 bonus1", "9996", "0.00 RUB", "177541 bonus1",
    ]  # fmt: skip
    assert table["VIP 5% off"][2:] == ["—", "—", "—", "1204", "150611.25 RUB", "—"]
    assert table["Double points weekend"][1:] == [
        "accrue_points", "1450", "0.00 RUB", "72500 bonus1", "1449", "0.00 RUB", "86940 bonus1"
    ]  # fmt: skip
    names = [row[0] for row in parse(PAGE).tables["promotions"][1:]]
    assert names == [  # the report's order: by type, then id
        "1% back in bonus points", "Double points weekend",
        BREAKOUT, "Free delivery over 3000", HOSTILE, "VIP 5% off",
        "Welcome: 500 RUB off the first order", "Pay with bonus points",
    ]  # fmt: skip


def test_every_text_from_the_report_is_escaped() -> None:
    """Program and promotion names and bad-record reasons appear escaped, never raw."""
    texts = [*REPORT["programs"], *(r["reason"] for r in REPORT["bad_records"])]
    for program in REPORT["programs"].values():
        texts += [promotion["name"] for promotion in program["promotions"]]
    for text in texts:
        assert html.escape(text) in PAGE
    for raw in (HOSTILE, "<script>alert(1)</script>", BREAKOUT, "<line 1 column 88>"):
        assert raw not in PAGE
    tables = parse(PAGE).tables
    assert rows(tables["bad-records"]) == {
        "line": ["reason"],
        "7": ["data.lines.0.count: must be an integer (got 'x')"],
        "4181": ["malformed JSON: Expecting ',' delimiter <line 1 column 88>"],
    }


def test_no_promotion_name_closes_a_script() -> None:
    """Every ``<script>`` ends where plotly ended it: as many closings as openings, each chart's
    ``Plotly.newPlot`` whole, the hostile names inside it escaped."""
    assert PAGE.lower().count("<script") == PAGE.lower().count("</script>")
    plots = [script for script in parse(PAGE).scripts if "Plotly.newPlot" in script]
    assert len(plots) == len(CHARTS)
    for script in plots:
        assert re.search(r"\)\s*};\s*$", script)  # the call and its guard closed: nothing cut off
    assert "Birthday 15% &lt;" in plots[1]  # the label reaches plotly escaped, whatever its JSON


def test_programs_are_columns_in_run_order_with_the_baseline_first() -> None:
    """The baseline leads even when ``programs`` arrives with its keys in another order."""
    report = copy.deepcopy(REPORT)
    report["programs"] = dict(reversed(report["programs"].items()))
    money = rows(parse(render_html(report)).tables["money-RUB"])
    assert money[""] == ["current", "proposed", "proposed − current"]


def test_same_report_same_page() -> None:
    """The page is a function of the report: chart ids are fixed, not random."""
    assert render_html(copy.deepcopy(REPORT)) == PAGE
    for chart in CHARTS:
        assert f'id="{chart}"' in PAGE


def test_not_a_report_is_a_validation_error() -> None:
    """Another document, or a report missing a part, is refused with a ``ValidationError``."""
    with pytest.raises(ValidationError, match="not a what-if report"):
        render_html({"format": "loyalty-engine/state", "version": 1})
    broken = copy.deepcopy(REPORT)
    del broken["programs"]["proposed"]["money"]
    shape = "not the shape docs/recipes/whatif.md describes"
    with pytest.raises(ValidationError, match=re.escape(shape)):
        render_html(broken)


def test_without_plotly_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing [whatif] extra is a ``LoyaltyError`` naming the pip command, not an
    ``ImportError``."""
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(LoyaltyError) as caught:
        render_html(REPORT)
    assert isinstance(caught.value, ValidationError)
    assert "the HTML report needs plotly: pip install 'loyalty-engine[whatif]'" in str(caught.value)
    with pytest.raises(ValidationError, match="needs plotly"):
        require_plotly()  # what a caller checks before a long replay


# --- a real browser ------------------------------------------------------------------------------


def _browser() -> tuple[Callable[[], Any], str]:
    """playwright's entry point and the system Chromium, or a skip naming what to install."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip install playwright)")
    try:
        import PIL  # noqa: F401
    except ImportError:
        missing.append("Pillow (pip install pillow)")
    chromium = shutil.which("chromium")
    if chromium is None:
        missing.append("Chromium (apt-get install chromium)")
    if missing:
        message = "the browser test needs " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must install it")
        pytest.skip(message)
    assert chromium is not None
    return sync_playwright, chromium


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(part) for part in re.findall(r"\d+", css)[:3])
    return r, g, b


def _assert_a_picture(png: bytes, *, colours: Collection[tuple[int, int, int]] = ()) -> None:
    """Not blank: many colours, no one colour covering nearly all of it, each of ``colours``
    painted on a visible area (a bar, not an anti-aliased edge)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = {colour: n for n, colour in image.getcolors(maxcolors=image.width * image.height)}
    assert len(counts) > 50, f"{len(counts)} colours"
    assert max(counts.values()) < 0.95 * image.width * image.height
    for colour in colours:
        assert counts.get(colour, 0) > 200, f"{colour} is not painted"


def test_the_page_draws_in_a_real_browser_offline(tmp_path: Path) -> None:
    """Chromium opens the file offline: no script error, no dialog, no request off the machine;
    plotly draws both charts with a bar trace per program, the hostile names as plain text."""
    sync_playwright, chromium = _browser()
    path = tmp_path / "report.html"
    path.write_text(PAGE, encoding="utf-8")
    errors: list[str] = []
    dialogs: list[str] = []
    offsite: list[str] = []

    def refuse_offsite(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    def dialog(shown: Any) -> None:
        dialogs.append(shown.message)
        shown.dismiss()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", dialog)
            page.route("**/*", refuse_offsite)
            page.goto(path.as_uri(), wait_until="load")
            fills: dict[str, set[tuple[int, int, int]]] = {}
            for chart in CHARTS:
                page.wait_for_selector(f"#{chart} .main-svg", timeout=10_000)
                page.wait_for_selector(f"#{chart} g.point path", state="attached", timeout=10_000)
                assert page.locator(f"#{chart} .trace.bars").count() == 2
                assert page.locator(f"#{chart} .trace.bars g.point path").count() >= 12
                fills[chart] = {
                    _rgb(fill)
                    for fill in page.eval_on_selector_all(
                        f"#{chart} .trace.bars g.point path",
                        "paths => paths.map(p => getComputedStyle(p).fill)",
                    )
                }
            assert page.evaluate("typeof window.Plotly") == "object"
            assert page.evaluate("window.Plotly.version").split(".")[0].isdigit()
            ticks = page.eval_on_selector_all(
                "#chart-promotion-cost-0 .xtick text", "ticks => ticks.map(t => t.textContent)"
            )
            legend = page.eval_on_selector_all(
                "#chart-discount-per-order .legendtext", "items => items.map(i => i.textContent)"
            )
            full = page.screenshot(full_page=True, path=tmp_path / "page.png")
            shots = {chart: page.locator(f"#{chart}").screenshot() for chart in CHARTS}
        finally:
            browser.close()

    assert offsite == []
    assert errors == []
    assert dialogs == []
    assert ticks == COST_TICKS
    assert legend == ["current", "proposed"]
    _assert_a_picture(full)
    for chart, png in shots.items():
        assert len(fills[chart]) == 2, fills[chart]  # one colour a program
        _assert_a_picture(png, colours=fills[chart])
