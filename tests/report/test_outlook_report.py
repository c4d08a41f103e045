"""The next list in the board report, from real dbt builds, read in headless Chromium: the
bundled example shows the outlook of every area on the first page and beside each area's
history; an area crafted to escalate (tests/fixtures/outlook/: Eparken, parallelsamfund
2018-2021, so 2022 is the fifth year in a row) is called out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from boligsocial.report import Marts, load_marts, render
from tests.dbt.conftest import load_sources, overlay, run_dbt
from tests.support.chromium import CHROMIUM, Browser

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERATED = datetime(2025, 12, 1, 6, 0)

# What a reader sees: the first page's next-list section and each area's outlook block.
OUTLOOK_STATE = """({
  heading: document.querySelector('#naeste-liste')?.innerText,
  note: document.querySelector('#naeste-liste + p.projection')?.innerText,
  rows: [...document.querySelectorAll('#overblik tr.outlook')].map(r => ({
    area: r.dataset.area,
    escalation: r.classList.contains('escalation'),
    cells: [...r.cells].map(c => c.innerText),
  })),
  callout: document.querySelector('#overblik .escalation-callout')?.innerText || '',
  points: document.querySelector('#overblik ul.points').innerText,
  areas: Object.fromEntries([...document.querySelectorAll('section.area')].map(s => [
    s.id, s.querySelector('.area-outlook')?.innerText || '',
  ])),
})"""


def _build(sources: Path, work: Path) -> Path:
    warehouse = work / "wh.duckdb"
    load_sources(sources, warehouse)
    # Seeds and models; dbt's tests of these marts run in tests/dbt.
    run_dbt(
        "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
        work=work, warehouse=warehouse,
    )  # fmt: skip
    return warehouse


def _read(warehouse: Path, tmp_path: Path) -> tuple[dict, dict[str, tuple]]:
    """The report's outlook as the browser shows it, and area_outlook's rows of the rules in
    force (one ruleset in force in the outlook years here)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = Marts.from_frames(load_marts(con))
        cursor = con.execute("select * from marts.area_outlook")
        columns = [d[0] for d in cursor.description]
        outlook = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    document, _ = render(marts, GENERATED)
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        state = browser.evaluate(OUTLOOK_STATE)
        assert browser.log.console_errors == []
    return state, outlook


@pytest.fixture(scope="module")
def example(example_built: tuple[Path, dict]) -> Path:
    return example_built[0]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("crafted")
    sources = overlay(FIXTURES / "hand", FIXTURES / "outlook", work / "sources")
    return _build(sources, work)


def test_the_example_shows_the_next_list_of_every_area(example, tmp_path):
    state, outlook = _read(example, tmp_path)
    assert state["heading"] == "Næste liste (1. december 2025)"
    # It says plainly that it is a projection, what it assumes and what it rests on.
    assert "hvis intet ændrer sig" in state["note"]
    assert "seneste dataår (2024)" in state["note"]
    assert "er taget fra 2024" in state["note"]  # no benchmarks delivered for 2025
    assert "Næste liste (1. december 2025), hvis intet ændrer sig:" in state["points"]
    shown = {row["area"]: row for row in state["rows"]}
    assert set(shown) == set(outlook) == {"MOTALAVEJ", "PARKVEJ", "RINGPARKEN", "SYDBYEN"}
    for area_id, row in outlook.items():
        name, now, then, persons, route = shown[area_id]["cells"]
        assert name == row["area_name"]
        assert now.endswith("(2024)") and then.endswith("(2025)")
        assert row["status_outlook_label_da"] in then
        if row["status_outlook"] == "none":
            assert (persons, route) == ("–", "–")
        else:
            assert persons == f"{row['persons_to_avoid']} personer"
            assert route.count(" + ") == row["persons_to_avoid_criteria"].count(", ")
        assert not shown[area_id]["escalation"]  # nothing escalates in the example
        # Each area's page has the outlook beside its history.
        block = state["areas"][area_id]
        assert block.startswith("Næste liste (1. december 2025), hvis intet ændrer sig")
        assert "Status 2024:" in block and "2025:" in block
        assert "Kriterierne 2025, hvis intet ændrer sig" in block
    assert state["callout"] == ""
    # Motalavej stays a forebyggelsesområde: 4 fewer convicted + 64 more in work or
    # education (as the mart says), both named with their persons.
    assert outlook["MOTALAVEJ"]["persons_to_avoid_criteria"] == (
        "forebyggelse.crime, forebyggelse.unemployment"
    )
    assert shown["MOTALAVEJ"]["cells"][4].startswith("dømte for straffelov")


def test_an_area_that_escalates_is_called_out(crafted, tmp_path):
    state, outlook = _read(crafted, tmp_path)
    assert outlook["EPARKEN"]["escalates"] is True
    assert [row["area"] for row in state["rows"] if row["escalation"]] == ["EPARKEN"]
    assert state["rows"][0]["area"] == "EPARKEN"  # escalations first
    name, now, then, persons, route = state["rows"][0]["cells"]
    assert (name, persons) == ("Eparken", "150 personer")
    assert "Parallelsamfund (2021)" in now
    assert "Omdannelsesområde (2022)" in then and "skærpes" in then
    assert route.startswith("indvandrere og efterkommere fra ikke-vestlige lande (150")
    callout = state["callout"]
    assert "Eparken: omdannelsesområde i 2022" in callout
    assert "2022 bliver 5. år i træk som parallelsamfund" in callout
    assert "Skærpes: Eparken (parallelsamfund → omdannelsesområde)" in state["points"]
    area = state["areas"]["EPARKEN"]
    assert "Skærpes, hvis intet ændrer sig" in area
    assert "Færrest personer for at undgå omdannelsesområde i 2022: 150 personer" in area
    # Areas look at different years: Fparken's latest data year is 2020.
    fparken = next(row for row in state["rows"] if row["area"] == "FPARKEN")
    assert fparken["cells"][1].endswith("(2020)") and fparken["cells"][2].endswith("(2021)")
    assert "året efter sit seneste dataår (2020–2021)" in state["note"]
