"""The bench's machinery on the tiny delivery and the bundled example (never national size).

The baseline reads every row of every source with one `read_csv` per source and encoding;
`Size.scaled` doubles a delivery; the bundled example's next month of exports passes the
pipeline's validation; the report prints PASS/MISS for exactly issue 20's four targets.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from bench import run as bench
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME
from sources.synthetic import national

EXAMPLE = Path(__file__).resolve().parents[2] / "sources" / "example"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    # Seed 9: its ledgers are UTF-8 (with and without BOM) and cp1252.
    return national.generate(national.TINY, seed=9, cache=tmp_path_factory.mktemp("cache"))


def _reader_rows(sources: Path) -> dict[str, int]:
    """Rows per source as the pipeline's readers give them."""
    rows = {}
    for spec in SOURCES:
        files = [p for p in spec.files(sources) if p.suffix == ".csv"]
        if files:
            rows[spec.name] = sum(len(spec.read(p)) for p in files)
    return rows


@pytest.mark.parametrize("delivery", ["tiny", "example"])
def test_baseline_reads_every_row_once_per_source_and_encoding(delivery, tiny, tmp_path):
    sources = tiny.sources if delivery == "tiny" else EXAMPLE
    reads = bench.baseline_reads(sources)
    assert len({(r.source, r.encoding) for r in reads}) == len(reads)
    out = tmp_path / "baseline.json"
    assert bench.child_baseline(sources, out) == 0
    scan = json.loads(out.read_text())

    by_source = scan["by_source"]
    assert {name: s["rows"] for name, s in by_source.items()} == _reader_rows(sources)
    for spec in SOURCES:
        files = [p for p in spec.files(sources) if p.suffix == ".csv"]
        if files:
            assert by_source[spec.name]["files"] == len(files)
            assert by_source[spec.name]["read_csv_calls"] <= 2
    # The cp1252 ledgers are one call (as latin-1), the UTF-8 ones another.
    ledger = by_source["vandalism_ledger"]
    assert set(ledger["encodings"]) == {"utf-8", "latin-1"}
    assert ledger["read_csv_calls"] == 2
    assert scan["read_csv_calls"] == sum(s["read_csv_calls"] for s in by_source.values())
    assert scan["scan_s"] > 0 and scan["store_s"] > 0
    assert not list(tmp_path.glob("baseline.duckdb*"))  # the stored copy is removed
    if delivery == "tiny":
        summary = tiny.summary
        assert by_source["areas"]["rows"] == summary["areas"]
        assert by_source["departments"]["rows"] == summary["department_periods"]
        assert by_source["area_statistics"]["rows"] == summary["statistics_rows"]
        assert by_source["police_incidents"]["rows"] == summary["incidents"]
        assert by_source["vandalism_ledger"]["rows"] == summary["ledger_lines"]
        assert by_source["vandalism_ledger"]["files"] == summary["ledger_files"]
        assert by_source["efforts"]["rows"] == summary["efforts"]
    else:  # statbank's cached tables differ in width: padded, still one call
        assert by_source["statbank"]["read_csv_calls"] == 1
        assert any(r.null_padding for r in reads if r.source == "statbank")


def test_size_scaled_doubles_the_delivery(tiny, tmp_path):
    size = national.TINY.scaled(2)
    assert national.TINY.scaled(1) == national.TINY
    kept = {"regions", "first_year", "last_year", "efforts_per_area_year"}
    for f in fields(national.Size):
        factor = 1 if f.name in kept else 2
        assert getattr(size, f.name) == factor * getattr(national.TINY, f.name), f.name
    assert size.name == "tiny-x2"
    assert national.NATIONAL.scaled(2).name == "national-x2"
    assert national.cache_entry(size, 9) != national.cache_entry(national.TINY, 9)

    doubled = national.generate(size, seed=9, cache=tmp_path)
    assert doubled.root.name == "v2-seed9-tiny-x2"
    one, two = tiny.summary, doubled.summary
    assert two["areas"] == 2 * one["areas"]
    assert two["incidents"] == 2 * one["incidents"]
    # Drawn at random: about twice (at tiny size the ledger's few organisations' export
    # windows make it noisy; the national size averages over 500).
    for key in ("department_periods", "statistics_rows", "ledger_lines", "ledger_files"):
        assert 1.5 * one[key] <= two[key] <= 3 * one[key], key


def test_example_month_passes_the_pipelines_validation(tmp_path):
    from boligsocial.cli.check import check

    before = sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*"))
    delivery = bench.example_month_delivery(tmp_path / "example-month")
    assert sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*")) == before
    # The month after the last export, for every organisation that exported in that month.
    last = max(p.stem.rsplit("_", 1)[1] for p in EXAMPLE.glob("vandalism/*.csv"))
    assert last == "2024-12"
    orgs = sorted(p.stem.rsplit("_", 1)[0] for p in EXAMPLE.glob(f"vandalism/*_{last}.csv"))
    month = sorted((delivery.increment / "vandalism").iterdir())
    assert [p.name for p in month] == [f"{org}_2025-01.csv" for org in orgs]

    ledger = SOURCES_BY_NAME["vandalism_ledger"]
    for path in month:
        org = path.stem.split("_")[0]
        previous = (EXAMPLE / "vandalism" / f"{org}_{last}.csv").read_bytes()
        data = path.read_bytes()
        # The organisation's shape: header line (encoding, BOM, column order) and line ends.
        assert data.split(b"\n", 1)[0] == previous.split(b"\n", 1)[0], path.name
        frame = ledger.read(path)
        assert len(frame) > 0
        assert set(frame["selskab"]) == {org}
        assert set(frame["export_period"]) == {"2025-01"}
        assert frame["dato"].astype(str).str.startswith("2025-01-").all()

    added = bench.add_increment(delivery)
    assert [p.name for p in added] == [p.name for p in month]
    report = check(delivery.sources)
    assert report.ok, [p.message_en for p in report.problems]
    new = {f"vandalism/{p.name}" for p in month}
    assert new <= set(report.files)
    assert not [p for p in report.problems if p.file in new]
    bench.remove_increment(delivery)
    assert not any(delivery.sources.glob("vandalism/*_2025-01.csv"))
    shutil.rmtree(delivery.root)


def _run(wall: float, peak_mb: float, exit_code: int = 0) -> dict:
    return {"wall_s": wall, "peak_bytes": peak_mb * 2**20, "exit": exit_code, "stages": {}}


def _results(**overrides) -> dict:
    summary = {
        "areas": 5,
        "department_periods": 40,
        "statistics_rows": 1590,
        "incidents": 400,
        "ledger_lines": 3977,
        "ledger_files": 142,
        "increment_files": 4,
    }
    runs = {
        "example_full": _run(20.0, 800),
        "example_month": _run(10.0, 700),
        "national_full": _run(60.0, 1400),
        "national_x2_full": _run(110.0, 2800),  # exactly twice the peak: not sub-linear
        "national_month": _run(20.0, 1200),  # exactly twice the example's: the limit holds
        "national_month_whole_job": _run(30.0, 1300),
        "baseline": {**_run(25.0, 900), "scan_s": 20.0, "store_s": 32.0, "read_csv_calls": 11},
    }
    runs.update(overrides)
    results = {"machine": "test", "generation": summary, "generation_x2": summary, "runs": runs}
    return bench.evaluate(results)


def test_report_has_pass_or_miss_for_exactly_the_four_targets():
    results = _results()
    assert [t.key for t in bench.TARGETS] == [
        "data_ratio",
        "peak_gb",
        "peak_growth",
        "sensor_ratio",
    ]
    figures = results["figures"]
    assert figures["data_ratio"] == pytest.approx((60 - 20) / 20)
    assert figures["peak_gb"] == pytest.approx(1400 / 1024)
    assert figures["peak_growth"] == pytest.approx(2.0)
    assert figures["sensor_ratio"] == pytest.approx(2.0)
    verdicts = {key: t["pass"] for key, t in results["targets"].items()}
    assert verdicts == {
        "data_ratio": True,
        "peak_gb": True,
        "peak_growth": False,  # < 2, strictly
        "sensor_ratio": True,  # ≤ 2
    }

    text = bench.report(results)
    rows = [line for line in text.splitlines() if line.endswith(("| PASS |", "| MISS |"))]
    assert len(rows) == 4
    for row, target in zip(rows, bench.TARGETS, strict=True):
        assert row.startswith(f"| {target.description} |")
    assert rows[2].endswith("| MISS |") and "2,800 MB / 1,400 MB" in rows[2]
    for label in ("bundled example, full refresh", "national ×2, full refresh", "baseline"):
        assert label in text
    assert "one new month" in text
    assert (
        "in an on-disk table: 32.0 s, 1.60 × the scan (the least any load costs); "
        "the data-dependent part is 1.25 × that." in text
    )


def test_a_target_whose_run_failed_is_a_miss():
    results = _results(example_month=_run(1.0, 100, exit_code=1))
    target = results["targets"]["sensor_ratio"]
    assert not target["runs_succeeded"] and not target["pass"]
    assert not results["all_runs_succeeded"]
    assert results["targets"]["data_ratio"]["pass"]
    missing = bench.evaluate({"runs": {}})
    assert all(not t["pass"] for t in missing["targets"].values())
    assert all(math.isnan(v) for v in missing["figures"].values())
