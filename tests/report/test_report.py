"""The board report: self-contained Danish HTML, and every chart drawn in headless Chromium."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pytest
from plotly.offline import get_plotlyjs

from boligsocial.configuration import settings
from boligsocial.report import Marts, build_report, load_marts, render
from boligsocial.report.model import exit_routes
from tests.support.chromium import CHROMIUM, Browser

# Screenshots of the rendered report are kept here (git-ignored) for people to look at.
ARTIFACTS = settings.PROJECT_ROOT / "build" / "test-artifacts"
GENERATED = datetime(2025, 12, 1, 6, 0)

# For every plotly div: drawn (layout computed, SVG present), its traces and drawn marks.
CHART_STATE = """
[...document.querySelectorAll('.plotly-graph-div')].map(gd => {
  const box = gd.getBoundingClientRect();
  return {
    id: gd.id,
    drawn: Boolean(gd._fullLayout) && gd.querySelectorAll('svg.main-svg').length > 0,
    traces: (gd._fullData || []).length,
    marks: gd.querySelectorAll('g.trace, g.hm image').length,
    width: box.width,
    height: box.height,
  };
})
"""


@pytest.fixture(scope="module")
def report(marts_editions) -> tuple[str, int, Marts]:
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        marts = Marts.from_frames(load_marts(con))
    document, charts = render(marts, GENERATED)
    return document, charts, marts


def test_the_report_is_one_self_contained_danish_file(report):
    document, charts, marts = report
    assert document.startswith("<!DOCTYPE html>")
    assert '<html lang="da">' in document
    # plotly.js is inlined whole; the rest fetches nothing: no external scripts, styles, fonts
    # or images (the Chromium test checks the requests too).
    assert get_plotlyjs() in document
    page = document.replace(get_plotlyjs(), "")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "Plotly.newPlot" in page
    assert document.count('class="plotly-graph-div"') == charts
    assert "dannet 1. december 2025" in document
    for heading in ("Overblik", "Hvad skal der til for at komme af listen", "Tryghedsindeks"):
        assert heading in document
    for area_id, name in marts.area_names.items():
        assert f'<section class="area" id="{area_id}"><h2>{name}</h2>' in document


def test_exit_routes_add_up_the_cheapest_criteria(report):
    _, _, marts = report
    year = marts.latest_year("RINGPARKEN")
    routes = {r.category: r for r in exit_routes(marts, "RINGPARKEN", year)}
    criteria = marts.criteria
    udsat = criteria[
        (criteria["area_id"] == "RINGPARKEN")
        & (criteria["year"] == year)
        & (criteria["ruleset"] == marts.ruleset_in_force[year])
        & (criteria["category"] == "udsat")
        & (criteria["met"] == True)  # noqa: E712
    ]
    status = marts.status[
        (marts.status["area_id"] == "RINGPARKEN")
        & (marts.status["year"] == year)
        & (marts.status["ruleset"] == marts.ruleset_in_force[year])
        & (marts.status["category"] == "udsat")
    ].iloc[0]
    needed = int(status["criteria_met"] - status["criteria_required"] + 1)
    cheapest = udsat["persons_to_exit"].dropna().sort_values().head(needed).sum()
    assert routes["udsat"].persons == cheapest
    assert routes["udsat"].label == "Udsat boligområde"  # the seed's label_da
    assert "kriterier er opfyldt" in routes["udsat"].text


def test_build_report_accepts_a_connection_or_frames(marts_editions):
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        from_connection = build_report(con, generated_at=GENERATED)
        frames = load_marts(con)
    assert build_report(frames, generated_at=GENERATED) == from_connection
    with pytest.raises(ValueError, match="area_safety"):
        build_report({k: v for k, v in frames.items() if k != "area_safety"})


@pytest.mark.slow  # a browser
@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} not installed (Debian: apt-get install chromium fonts-dejavu-core)",
)
def test_every_chart_draws_in_headless_chromium_without_console_errors(report, tmp_path):
    document, charts, _ = report
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        states = browser.evaluate(CHART_STATE)
        browser.screenshot(ARTIFACTS / "board_report_first_page.png")
        browser.screenshot(ARTIFACTS / "board_report_full.png", full_page=True)
        errors, requests = browser.log.console_errors, browser.log.requests
    assert errors == []
    assert len(states) == charts > 30
    not_drawn = [s for s in states if not (s["drawn"] and s["traces"] > 0 and s["marks"] > 0)]
    assert not_drawn == []
    assert all(s["width"] > 300 and s["height"] > 100 for s in states)
    # Offline: the page loaded nothing but itself and inline images.
    assert {url.split(":")[0] for url in requests} <= {"file", "data"}
    assert (ARTIFACTS / "board_report_full.png").stat().st_size > 100_000
