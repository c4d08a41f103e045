"""What the report takes from data and configuration: ruleset categories from
marts.list_categories, the official list's disagreements, the municipality's own names and
vision, and text from data shown as text."""

from __future__ import annotations

import re
import shutil
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from boligsocial.configuration import config as configuration
from boligsocial.configuration import settings
from boligsocial.configuration.config import CONFIG_VARIABLE
from boligsocial.report import Marts, build_report, detail_areas, load_marts, render
from boligsocial.report.model import CATEGORIES, RECONCILIATION
from tests.support.chromium import CHROMIUM, Browser
from tests.support.marts_fixture import DISAGREEMENTS

# The slow tier: a browser.
pytestmark = pytest.mark.slow

GENERATED = datetime(2025, 12, 1, 6, 0)
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")


@pytest.fixture
def frames(marts_editions) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        return load_marts(con)


def _open(document: str, tmp_path, script: str):
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        result = browser.evaluate(script)
        assert browser.log.console_errors == []
    return result


def test_a_ruleset_added_as_data_shows_with_its_label_and_severity(frames, monkeypatch):
    """A new ruleset in the seed (and the marts computed with it): no code knows it."""
    seed = frames[CATEGORIES]
    new = {column: None for column in seed.columns} | {
        "ruleset": "test_2024",
        "category": "skaerpet",
        "label_da": "Skærpet indsatsområde (prøveregler)",
        "severity": 9,  # above every category of the real rulesets
        "min_residents": 1000,
        "first_year": 2024,
    }
    frames[CATEGORIES] = pd.concat([seed, pd.DataFrame([new])], ignore_index=True)
    status = frames["area_list_status"]
    latest = int(status["year"].max())
    added = status[(status["year"] == latest) & (status["ruleset"] == "law_2021")].assign(
        ruleset="test_2024", status="none", status_label_da="Ikke på listen"
    )
    parkvej = added["area_id"] == "PARKVEJ"  # not on any list under the real rules
    added.loc[parkvej, ["status", "status_label_da"]] = ["skaerpet", new["label_da"]]
    frames["area_list_status"] = pd.concat([status, added], ignore_index=True)

    marts = Marts.from_frames(frames)
    assert marts.ruleset_in_force[latest] == "test_2024"  # the newest of the rules in force
    # The most severe status: Parkvej is the one area with a section when only one gets it.
    assert detail_areas(marts, max_areas=1) == ["PARKVEJ"]
    document, _ = render(marts, GENERATED)
    assert f"Status {latest} efter regler 2024:" in document
    assert "S = skærpet indsatsområde (prøveregler)" in document  # the heatmap's legend
    badge = re.search(r'<span class="badge" style="background:([^;]+);[^>]*>Skærpet', document)
    assert badge and badge.group(1) == "#4a0d0d"  # the sixth level's colour


def _rename(frames: dict[str, pd.DataFrame], names: dict[str, str]) -> None:
    for frame in frames.values():
        if "area_name" in frame.columns:
            frame["area_name"] = frame["area_id"].map(names).fillna(frame["area_name"])


HOSTILE = '<a href="https://example.invalid/">Klik her</a>'


@needs_chromium
def test_markup_in_an_area_name_shows_as_text_in_every_chart(frames, tmp_path):
    _rename(frames, {"SYDBYEN": HOSTILE})
    document = build_report(frames, generated_at=GENERATED)
    assert HOSTILE not in document  # the page's HTML escapes it too
    state = _open(
        document,
        tmp_path,
        """({
          links: document.querySelectorAll('.plotly-graph-div svg a').length,
          text: [...document.querySelectorAll('.plotly-graph-div svg')]
            .map(svg => svg.textContent).join(' '),
          table: document.querySelector('#overblik').innerText,
        })""",
    )
    assert state["links"] == 0
    # Axis labels (list status, budget), legends (tryghedsindeks) and the section's charts.
    assert state["text"].count(HOSTILE) >= 3
    assert HOSTILE in state["table"]  # the key points and the table


@needs_chromium
def test_the_first_page_shows_the_disagreements_with_the_official_list(frames, tmp_path):
    document = build_report(frames, generated_at=GENERATED)
    state = _open(
        document,
        tmp_path,
        """({
          first: [...document.querySelectorAll('#overblik tr.disagreement')].map(r => r.innerText),
          area: [...document.querySelectorAll('section.area')].map(s => ({
            id: s.id,
            rows: [...s.querySelectorAll('tr.disagreement')].map(r => r.innerText),
            official: s.innerText.includes('Officiel status'),
          })),
        })""",
    )
    last_year = int(frames["area_list_status"]["year"].max())
    first = state["first"]
    assert len(first) == len(DISAGREEMENTS) == 2
    ringparken, parkvej = first  # newest year first
    assert ringparken.startswith(f"Ringparken\t{last_year - 1}\t")
    assert "nej: beregningen har data for alle kriterier" in ringparken
    assert parkvej.startswith(f"Parkvej\t{last_year - 2}\t")
    assert "ja: mindst ét kriterium mangler data" in parkvej
    assert "Udsat boligområde" in parkvej  # the official status, beside the computed one
    areas = {a["id"]: a for a in state["area"]}
    assert all(a["official"] for a in areas.values())
    assert len(areas["RINGPARKEN"]["rows"]) == len(areas["PARKVEJ"]["rows"]) == 1
    assert areas["SYDBYEN"]["rows"] == areas["MOTALAVEJ"]["rows"] == []


@pytest.mark.parametrize("delivered", ["missing", "empty"])
def test_without_an_official_list_the_report_says_so(frames, delivered):
    if delivered == "missing":
        del frames[RECONCILIATION]
    else:
        frames[RECONCILIATION] = frames[RECONCILIATION].iloc[0:0]
    document = build_report(frames, generated_at=GENERATED)
    assert "Afvigelser fra den officielle liste" in document
    assert "Der er ikke leveret en officiel liste" in document
    assert "Officiel status" not in document


def test_another_municipality_gets_its_own_report(marts_editions, tmp_path, monkeypatch):
    """Configured only through its boligsocial.toml and its own marts: no word of Slagelse."""
    config = tmp_path / "boligsocial.toml"
    config.write_text(
        '[municipality]\nname = "Odense Kommune"\ncode = 461\n'
        '[report]\ntitle = "Boligsocial indsats i Odense – bestyrelsesrapport"\n'
        'organisation = "Odense Kommune, Borgmesterforvaltningen"\n'
        'footer = "Bestyrelsen for den boligsociale helhedsplan i Vollsmose"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(CONFIG_VARIABLE, str(config))
    odense = {"RINGPARKEN": "Vollsmose", "SYDBYEN": "Bøgeparken", "MOTALAVEJ": "Solbakken"}
    warehouse = tmp_path / "odense.duckdb"
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        frames = load_marts(con)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        for mart, frame in frames.items():
            if "area_id" in frame.columns:  # Odense's own areas
                frame = frame[frame["area_id"].isin([*odense, "ALLE"])].copy()
                _rename({mart: frame}, odense)
                frame["area_id"] = frame["area_id"].map(lambda a: odense.get(a, a).upper())
            con.register("frame", frame)
            con.execute(f"create table marts.{mart} as select * from frame")
            con.unregister("frame")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        document = build_report(con, generated_at=GENERATED)
    assert "<title>Boligsocial indsats i Odense – bestyrelsesrapport</title>" in document
    assert "<p>Odense Kommune, Borgmesterforvaltningen</p>" in document
    assert "<p>Odense Kommune · Dataår" in document
    assert "Bestyrelsen for den boligsociale helhedsplan i Vollsmose" in document
    for name in odense.values():
        assert f"<h2>{name}</h2>" in document
    for other in ("slagelse", "ringparken", "sydbyen", "motalavej", "parkvej"):
        assert other not in document.lower()


def test_labels_come_from_the_marts_not_from_the_seed_file(marts_editions, tmp_path, monkeypatch):
    """Labels and severities reach the report through marts.list_categories (the published
    copy holds it), never from dbt_project/seeds on disk."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(marts_editions[1], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.list_categories set label_da = 'Udsat boligområde (martens etiket)' "
            "where category = 'udsat'"
        )
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path / "no_dbt_project")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        document = build_report(con, generated_at=GENERATED)
    assert "Udsat boligområde (martens etiket)" in document


@needs_chromium
def test_the_vision_is_the_municipality_s_own_text(frames, tmp_path):
    """No municipality's vision is written into the code: without one configured the first
    page has none, and a configured one is among its key points."""
    points = "document.querySelector('#overblik ul.points').innerText"
    neutral = configuration.Config()  # no boligsocial.toml: the defaults
    shown = _open(build_report(frames, generated_at=GENERATED, config=neutral), tmp_path, points)
    assert "Visionen er" not in shown
    vision = "Visionen er, at ingen af vores områder er på listen i 2030."
    configured = build_report(
        frames, generated_at=GENERATED, config=configuration.parse(f"[report]\nvision = {vision!r}")
    )
    assert vision in _open(configured, tmp_path, points)


@needs_chromium
def test_the_80_20_target_and_tolerance_are_shown_as_configured(frames, tmp_path):
    """A policy changed in the latest year (0.75 ± 10 pp, a new row of the seed, with the
    mart's target to match): the key point and the chart say it, not 80 % ± 5."""
    split = frames["allocation_8020"]
    latest = int(split["year"].max())
    frames["allocation_policy"] = pd.DataFrame(
        [
            {"first_year": 2000, "target_share_drift": 0.80, "tolerance_pp": 5.0},
            {"first_year": latest, "target_share_drift": 0.75, "tolerance_pp": 10.0},
        ]
    )
    changed = split["year"] == latest
    frames["allocation_8020"] = split.assign(
        target_share_drift=split["target_share_drift"].where(~changed, 0.75)
    )
    points = "document.querySelector('#overblik ul.points').innerText"
    shown = _open(build_report(frames, generated_at=GENERATED), tmp_path, points)
    assert "målet er 75 %" in shown and "tolerancen på ±10 procentpoint" in shown
    assert "målet er 80 %" not in shown
    legend = build_report(frames, generated_at=GENERATED)
    assert "Mål for drift (±tolerance), som det var i hvert år" in legend
