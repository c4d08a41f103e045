"""How the charts read, measured in headless Chromium: counts on an axis of their own with
whole-number ticks, area lines that stay apart for many areas (also for colour-blind readers),
and a legend that names every colour of the status grid."""

from __future__ import annotations

import itertools
import math
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from boligsocial.report import build_report, load_marts
from tests.report.test_report_scale import national
from tests.support.chromium import CHROMIUM, Browser

# The slow tier: a browser.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]
GENERATED = datetime(2025, 12, 1, 6, 0)


@pytest.fixture
def frames(marts_editions) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        return load_marts(con)


def _evaluate(document: str, tmp_path, script: str):
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        result = browser.evaluate(script)
        assert browser.log.console_errors == []
    return result


def _chart(caption: str, body: str) -> str:
    """A script returning body's value for every chart whose caption starts with `caption`
    (`gd`: the plotly div)."""
    return f"""[...document.querySelectorAll('figure.chart-box')]
      .filter(f => f.querySelector('figcaption').innerText.startsWith({caption!r}))
      .map(f => f.querySelector('.plotly-graph-div'))
      .map(gd => {{ {body} }})"""


# The right axis' tick labels and the case points, each with the middle of its box on screen.
CASES_AXIS = _chart(
    "Hærværk",
    """const middle = e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; };
    const trace = gd.data.findIndex(t => t.yaxis === 'y2');
    return {
      ticks: [...gd.querySelectorAll('g.y2tick text')].map(t => [t.textContent, middle(t)]),
      cases: gd.data[trace].y,
      points: [...gd.querySelectorAll('.scatterlayer .trace path.point')].map(middle),
    };""",
)


def test_vandalism_cases_get_whole_number_ticks_on_their_own_scale(frames, tmp_path):
    safety = frames["area_safety"]
    # Few cases a year (0 to 6), as in a small area: the case that was drawn above "6".
    safety["vandalism_cases"] = [i % 7 for i in range(len(safety))]
    charts = _evaluate(build_report(frames, generated_at=GENERATED), tmp_path, CASES_AXIS)
    assert len(charts) == 4
    for chart in charts:
        labels = [label for label, _ in chart["ticks"]]
        assert all(label.isdigit() for label in labels), labels
        values = [int(label) for label in labels]
        steps = {b - a for a, b in itertools.pairwise(values)}
        assert values[0] == 0 and len(steps) == 1 and steps.pop() >= 1, values
        assert max(values) >= max(chart["cases"])
        # Each point sits where the axis says its count is (within a pixel and a half).
        (v0, y0), (v1, y1) = (values[0], chart["ticks"][0][1]), (values[-1], chart["ticks"][-1][1])
        for cases, y in zip(chart["cases"], chart["points"], strict=True):
            assert y == pytest.approx(y0 + (cases - v0) * (y1 - y0) / (v1 - v0), abs=1.5)


# Each area line of the first page's tryghedsindeks chart: its name, colour, dash and marker.
AREA_LINES = _chart(
    "Tryghedsindeks: områderne",
    """return gd._fullData.filter(t => t.mode === 'lines+markers').map(t => ({
      name: t.name, color: t.line.color, dash: t.line.dash, symbol: t.marker.symbol,
    }));""",
)

# Machado, Oliveira & Fernandes (2009), severity 1: linear RGB as a dichromat sees it.
DICHROMACY = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}  # fmt: skip


def _lab(color: str, matrix=None) -> tuple[float, float, float]:
    """CIELAB (D65) of a `#rrggbb` or `rgb(r, g, b)` colour, as seen through `matrix`."""
    if color.startswith("#"):
        channels = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [int(float(c)) for c in color[color.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 3294.6 if c <= 10.31 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    if matrix:
        linear = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, linear, strict=True))))
                  for row in matrix]  # fmt: skip
    r, g, b = linear
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_area_lines_stay_distinct_for_many_areas_and_for_colour_blind_readers(frames, tmp_path):
    many = national(frames, 3)  # 12 areas, 9 of them with a tryghedsindeks
    lines = _evaluate(build_report(many, generated_at=GENERATED), tmp_path, AREA_LINES)
    [lines] = lines
    assert len(lines) == 9
    styles = [(line["color"], line["dash"], line["symbol"]) for line in lines]
    assert len(set(styles)) == len(styles)  # a second channel: no two lines alike
    assert len({line["symbol"] for line in lines}) > 1
    # The first seven lines have seven colours that stay apart (CIE76 ΔE ≥ 15) in normal
    # vision and as each kind of dichromat sees them.
    colors = [line["color"] for line in lines[:7]]
    assert len(set(colors)) == 7
    for matrix in (None, *DICHROMACY.values()):
        closest = min(
            math.dist(_lab(a, matrix), _lab(b, matrix))
            for a, b in itertools.combinations(colors, 2)
        )
        assert closest >= 15, (matrix, closest)


GRID_LEGEND = _chart(
    "Listestatus efter de gældende regler",
    "return [...gd.querySelectorAll('.colorbar .cbaxis text, .colorbar text.ytick, "
    ".colorbar g.ytick text')].map(t => t.textContent);",
)


def test_a_blank_cell_of_the_status_grid_is_in_the_legend(frames, tmp_path):
    status = frames["area_list_status"]
    first_year = int(status["year"].min())
    gap = (status["area_id"] == "SYDBYEN") & (status["year"] == first_year)  # no statistics
    frames["area_list_status"] = status[~gap]
    [legend] = _evaluate(build_report(frames, generated_at=GENERATED), tmp_path, GRID_LEGEND)
    assert "Ingen statistik" in legend
    assert "Ikke på listen" in legend
    # Without a blank cell there is no such entry.
    frames["area_list_status"] = status
    [legend] = _evaluate(build_report(frames, generated_at=GENERATED), tmp_path, GRID_LEGEND)
    assert "Ingen statistik" not in legend and "Ikke på listen" in legend
