"""The board report at national scale: which areas get a section, the condensed first page,
and the build time with hundreds of areas."""

from __future__ import annotations

import time
from datetime import datetime

import duckdb
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from boligsocial.report import Marts, detail_areas, load_marts, render
from boligsocial.report.model import (
    ALL_AREAS,
    AREAS_VARIABLE,
    MAX_AREAS_VARIABLE,
    MUNICIPALITY_VARIABLE,
)
from tests.report.test_report import CHART_STATE
from tests.support.chromium import CHROMIUM, Browser

# The slow tier: national-scale marts and a browser.
pytestmark = pytest.mark.slow

GENERATED = datetime(2025, 12, 1, 6, 0)
# Charts on the first page at most, and per area section.
OVERVIEW_CHARTS, AREA_CHARTS = 5, 8


@pytest.fixture(autouse=True)
def _no_selection(monkeypatch):
    for variable in (AREAS_VARIABLE, MUNICIPALITY_VARIABLE, MAX_AREAS_VARIABLE):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def frames(marts_editions) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        return load_marts(con)


def _sections(document: str) -> int:
    return document.count('<section class="area"')


def test_plotly_js_is_embedded_once(frames):
    document, _ = render(Marts.from_frames(frames), GENERATED)
    assert document.count(get_plotlyjs()) == 1


def test_every_area_gets_a_section_up_to_the_limit(frames):
    marts = Marts.from_frames(frames)
    assert detail_areas(marts) == list(marts.area_names)
    document, _ = render(marts, GENERATED)
    assert _sections(document) == len(marts.area_names) == 4
    assert "med egen side" not in document


def test_a_selection_of_areas(frames, monkeypatch):
    marts = Marts.from_frames(frames)
    assert detail_areas(marts, areas=["sydbyen", "NOWHERE"]) == ["SYDBYEN"]
    monkeypatch.setenv(AREAS_VARIABLE, "PARKVEJ, RINGPARKEN")
    assert detail_areas(marts) == ["PARKVEJ", "RINGPARKEN"]  # report order: by name
    document, _ = render(marts, GENERATED)
    assert _sections(document) == 2
    assert "Rapporten har en side for 2 af de 4 områder (de valgte områder og kommuner)" in (
        document
    )


def test_a_municipality_from_the_reference_areas(frames, monkeypatch, tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "areas.csv").write_text(
        "\ufeffarea_id;area_name;town;municipality_code;region_code\n"
        "RINGPARKEN;Ringparken;Slagelse;330;1085\n"
        "SYDBYEN;Sydbyen;Slagelse;330;1085\n"
        "MOTALAVEJ;Motalavej;Korsør;329;1085\n"
        "PARKVEJ;Parkvej;Skælskør;331;1085\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BOLIGSOCIAL_SOURCES_DIR", str(tmp_path))
    monkeypatch.setenv(MUNICIPALITY_VARIABLE, "330")
    marts = Marts.from_frames(frames)
    assert detail_areas(marts) == ["RINGPARKEN", "SYDBYEN"]
    monkeypatch.setenv(AREAS_VARIABLE, "PARKVEJ")  # the union of both
    assert detail_areas(marts) == ["PARKVEJ", "RINGPARKEN", "SYDBYEN"]


def test_above_the_limit_the_most_severe_areas_get_a_section(frames, monkeypatch):
    monkeypatch.setenv(MAX_AREAS_VARIABLE, "2")
    marts = Marts.from_frames(frames)
    official = marts.official(marts.list_status)
    latest = official[official["year"] == marts.latest_year()]
    # The seed's severities: forebyggelse 0 < udsat 1 < parallelsamfund 2 < omdannelse 3.
    severity = {"none": -1, "forebyggelse": 0, "udsat": 1, "parallelsamfund": 2, "omdannelse": 3}
    levels = dict(zip(latest["area_id"], latest["status"].map(severity), strict=True))
    chosen = detail_areas(marts)
    assert len(chosen) == 2
    assert min(levels[a] for a in chosen) >= max(
        levels[a] for a in marts.area_names if a not in chosen
    )
    assert all(levels[a] >= 0 for a in chosen)

    document, charts = render(marts, GENERATED)
    assert _sections(document) == 2
    # Condensed first page: counts instead of one line per area, every area still in the table.
    assert "Antal områder på listen efter de gældende regler" in document
    assert "områderne med egen side" in document
    assert "Rapporten har en side for 2 af de 4 områder" in document
    for area_id, name in marts.area_names.items():
        link = f'<a href="#{area_id}">{name}</a>'
        assert (link in document) == (area_id in chosen)
        assert f'<td class="">{name}</td>' in document or link in document
    assert charts <= OVERVIEW_CHARTS + AREA_CHARTS * 2


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")
def test_the_condensed_report_draws_without_console_errors(frames, monkeypatch, tmp_path):
    monkeypatch.setenv(MAX_AREAS_VARIABLE, "1")
    document, charts = render(Marts.from_frames(frames), GENERATED)
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        states = browser.evaluate(CHART_STATE)
        errors = browser.log.console_errors
    assert errors == []
    assert len(states) == charts
    assert [s for s in states if not (s["drawn"] and s["traces"] > 0 and s["marks"] > 0)] == []


def national(frames: dict[str, pd.DataFrame], copies: int) -> dict[str, pd.DataFrame]:
    """The example's areas `copies` times over, under new ids (a national-size delivery)."""
    result = {}
    for mart, frame in frames.items():
        if "area_id" not in frame.columns:  # the ruleset seed
            result[mart] = frame
            continue
        shared = frame[frame["area_id"] == ALL_AREAS]
        own = frame[frame["area_id"] != ALL_AREAS]
        parts = [shared]
        for copy in range(copies):
            part = own.assign(area_id=own["area_id"] + f"_{copy}")
            if "area_name" in part.columns:
                part = part.assign(area_name=part["area_name"] + f" {copy}")
            parts.append(part)
        result[mart] = pd.concat(parts, ignore_index=True)
    return result


def test_a_national_report_stays_fast_and_bounded(frames):
    big = national(frames, 63)  # 252 areas
    started = time.perf_counter()
    marts = Marts.from_frames(big)
    document, charts = render(marts, GENERATED)
    elapsed = time.perf_counter() - started
    assert len(marts.area_names) == 252
    assert _sections(document) == 30
    assert charts <= OVERVIEW_CHARTS + AREA_CHARTS * 30
    assert document.count("<tr>") >= 252 + 1  # the overview table: one row per area
    assert document.count(get_plotlyjs()) == 1
    assert elapsed < 60, f"national report took {elapsed:.1f} s"
