"""Same input, same bytes: two refreshes of unchanged sources leave every mart and every
published file (Parquet per mart, the DuckDB copy, the board report) byte for byte the same.

Floating point sums depend on the order in which rows are added, and DuckDB's parallel
aggregation adds a group's rows in an order that differs between runs. Money and full-time
equivalents are exact decimals from the reader to the marts, and the remaining sums of doubles
(metrics numerators, window means, need) are summed exactly, so the order no longer shows.
Checked on the bundled example and on a generated delivery large enough for DuckDB to
aggregate in parallel (well over 122,880 rows, one row group, per thread): ~300,000
statistics rows with fractional numerators and ~250,000 effort rows with fractional fte and
øre, among them shared (FÆLLES) efforts spread over the areas.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from boligsocial.publication.publish import write_duckdb_copy, write_parquet
from boligsocial.report import Marts, load_marts, render
from sources.synthetic.example import fmt_amount
from sources.synthetic.national import Size, generate
from tests.dbt.conftest import load_sources, run_dbt

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "sources" / "example"
# Statistics: 3,000 departments × 10 years × 10 MÅL = 300,000 rows.
LARGE = Size(
    regions=5,
    municipalities=20,
    areas=100,
    departments=3000,
    organisations=40,
    first_year=2016,
    last_year=2025,
    incidents=5000,
    ledger_lines=20_000,
    efforts_per_area_year=1.0,
)
EFFORTS_PER_AREA_YEAR = 280  # × 100 areas × 9 years ≈ 250,000 rows
SHARED_PER_YEAR = 40
EFFORT_AREAS = ("Tryghed og trivsel", "Uddannelse og beskæftigelse", "Forebyggelse")
EFFORT_HEADER = (
    "indsats_id",
    "navn",
    "indsatsområde",
    "spor",
    "område",
    "år",
    "årsværk",
    "budget_kr",
)


def write_large_efforts(sources: Path, seed: int = 7) -> int:
    """Replace the register with many rows whose fte (0,05 … 2,95) and budgets (with øre) are
    not exact in binary floating point, and shared efforts in every year."""
    with (sources / "reference" / "areas.csv").open(encoding="utf-8-sig") as f:
        areas = [row["area_id"] for row in csv.DictReader(f, delimiter=";")]
    rng = np.random.default_rng(seed)
    rows = []
    for year in range(2017, LARGE.last_year + 1):
        for area in areas:
            fte = rng.integers(1, 60, EFFORTS_PER_AREA_YEAR) * 5
            ore = rng.integers(1_000_000, 90_000_000, EFFORTS_PER_AREA_YEAR)
            for k in range(EFFORTS_PER_AREA_YEAR):
                rows.append((f"E{k}", "drift" if k % 5 else "projekt", area, year, fte[k], ore[k]))
        for k in range(SHARED_PER_YEAR):
            fte, ore = int(rng.integers(1, 60)) * 5, int(rng.integers(1_000_000, 900_000_000))
            rows.append((f"F{k}", "drift", "FÆLLES", year, fte, ore))
    lines = [";".join(EFFORT_HEADER)]
    for effort_id, track, area, year, fte, ore in rows:
        effort_area = EFFORT_AREAS[int(effort_id[1:]) % len(EFFORT_AREAS)]
        lines.append(
            f"{effort_id};Indsats {effort_id};{effort_area};{track};{area};{year};"
            f"{fte // 100},{fte % 100:02d};{fmt_amount(int(ore), thousands=True)}"
        )
    (sources / "efforts" / "indsatser.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


@pytest.fixture(scope="module")
def large_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    delivery = generate(LARGE, seed=11, cache=tmp_path_factory.mktemp("national"))
    assert delivery.summary["statistics_rows"] > 2 * 122_880
    assert write_large_efforts(delivery.sources) > 2 * 122_880
    return delivery.sources


def file_digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refresh_and_publish(warehouse: Path, work: Path, publish: Path) -> dict[str, str]:
    """Rebuild every model (nothing reused from the build before) and publish the marts: the
    digests of every mart's rows (exact values and types, in any order) and of every
    published file's bytes."""
    run_dbt("run", "--full-refresh", work=work, warehouse=warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        publish.mkdir()
        write_parquet(con, marts, publish / "parquet")
        write_duckdb_copy(con, marts, publish / "boligsocial_marts.duckdb")
        stored = {
            f"marts.{mart}": hashlib.sha256(
                repr(
                    sorted(map(repr, con.execute(f"select * from marts.{mart}").fetchall()))
                ).encode()
            ).hexdigest()
            for mart in marts
        }
    with duckdb.connect(str(publish / "boligsocial_marts.duckdb"), read_only=True) as con:
        document, _ = render(Marts.from_frames(load_marts(con)), datetime(2026, 1, 1, 6, 0))
    (publish / "bestyrelsesrapport.html").write_text(document, encoding="utf-8")
    return {**stored, **file_digests(publish)}


@pytest.mark.parametrize("delivery", ["example", "large"])
def test_two_refreshes_of_unchanged_sources_give_the_same_bytes(
    delivery: str, request: pytest.FixtureRequest, tmp_path: Path
):
    sources = EXAMPLE if delivery == "example" else request.getfixturevalue("large_sources")
    warehouse = tmp_path / "wh.duckdb"
    load_sources(sources, warehouse)
    run_dbt("seed", work=tmp_path, warehouse=warehouse)
    first = refresh_and_publish(warehouse, tmp_path, tmp_path / "first")
    second = refresh_and_publish(warehouse, tmp_path, tmp_path / "second")
    assert len(first) >= 2 * 8 + 2  # every mart stored and as Parquet, the copy, the report
    changed = sorted(name for name in first if first[name] != second.get(name))
    assert changed == [], f"changed between two refreshes of the same sources: {changed}"
