"""The bench's machinery on the tiny delivery and the bundled example (never national size).

The baseline reads every row of every source with one `read_csv` per source and encoding;
`Size.scaled` doubles a delivery; the bundled example's next month of exports passes the
pipeline's validation, and so does the example with one changed ledger file; the store's
floor reads the cp1252 ledgers decoded; the report prints each of issue 30's targets with its
figure, baseline, load and PASS/MISS.
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

# The slow tier: the bench's deliveries, generated and scanned.
pytestmark = pytest.mark.slow

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
    assert not list(tmp_path.glob("baseline.store*"))  # the stored copy is removed
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


def test_the_store_reads_the_cp1252_ledgers_decoded_to_utf8(tiny, tmp_path):
    import duckdb

    reads = bench.baseline_reads(tiny.sources)
    utf8 = bench._utf8_reads(reads, tmp_path / "utf8")
    assert {r.encoding for r in utf8} == {"utf-8"}
    decoded = [r for r in reads if r.encoding == "latin-1"]
    assert decoded  # seed 9 has cp1252 ledgers
    for before, after in zip(reads, utf8, strict=True):
        assert len(before.files) == len(after.files)
        if before.encoding == "latin-1":
            for original, copy in zip(before.files, after.files, strict=True):
                text = Path(original).read_bytes().decode("cp1252")
                assert Path(copy).read_bytes().decode("utf-8") == text
    with duckdb.connect() as con:
        rows = {}
        for read in utf8:
            sql = f"select count(*) from {bench._read_csv(read)}"
            [(count,)] = con.execute(sql, [list(read.files)]).fetchall()
            rows[read.source] = rows.get(read.source, 0) + count
    assert rows == _reader_rows(tiny.sources)


def test_one_changed_ledger_file_is_one_valid_change(tmp_path):
    from boligsocial.cli.check import check

    sources = tmp_path / "sources"
    shutil.copytree(EXAMPLE, sources)
    changed = bench.change_one_ledger_file(sources)
    differ = [
        p.relative_to(sources)
        for p in sources.rglob("*")
        if p.is_file() and p.read_bytes() != (EXAMPLE / p.relative_to(sources)).read_bytes()
    ]
    assert differ == [changed.relative_to(sources)]
    ledger = SOURCES_BY_NAME["vandalism_ledger"]
    before, after = ledger.read(EXAMPLE / differ[0]), ledger.read(changed)
    assert len(before) == len(after)
    assert (before["beloeb"] != after["beloeb"]).sum() == 1
    assert check(sources).ok


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
    return {
        "wall_s": wall,
        "peak_bytes": peak_mb * 2**20,
        "exit": exit_code,
        "stages": {},
        "load": 1.5,
    }


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
        "example_unchanged": _run(15.0, 700),  # the limit holds
        "example_one_file": _run(20.5, 700),
        "example_month": _run(10.0, 700),
        "national_full": _run(60.0, 1400),
        "national_x2_full": _run(110.0, 2800),  # exactly twice the peak: not sub-linear
        "national_month": _run(20.0, 1200),  # exactly twice the example's: the limit holds
        "national_month_whole_job": _run(30.0, 1300),
        "national_check": _run(25.0, 900),
        "baseline": {**_run(25.0, 900), "scan_s": 20.0, "store_s": 32.0, "read_csv_calls": 11},
        "code_location": _run(1.9, 0),
        "import_dagster": _run(0.6, 0),
    }
    runs.update(overrides)
    results = {"machine": "test", "generation": summary, "generation_x2": summary, "runs": runs}
    results["suite"] = {
        "suite_fast": _run(100.0, 0),
        "suite_all": _run(700.0, 0),
        "measured_at": "2026-12-07 15:00 UTC",
    }
    return bench.evaluate(results)


def test_report_has_a_figure_baseline_load_and_verdict_for_each_target():
    results = _results(national_full={**_run(60.0, 1400), "load": 3.25})
    assert [t.key for t in bench.TARGETS] == [
        "example_unchanged",
        "example_one_file",
        "code_location",
        "suite_fast",
        "suite_all",
        "data_ratio",
        "peak_gb",
        "peak_growth",
        "check_ratio",
        "sensor_ratio",
    ]
    assert sorted({t.issue for t in bench.TARGETS}) == ["1", "2", "3", "4", "5", "6"]
    figures = results["figures"]
    assert figures["data_ratio"] == pytest.approx((60 - 20) / 32)
    assert figures["check_ratio"] == pytest.approx(25 / 20)
    assert figures["peak_gb"] == pytest.approx(1400 / 1024)
    assert figures["peak_growth"] == pytest.approx(2.0)
    assert figures["sensor_ratio"] == pytest.approx(2.0)
    verdicts = {key: t["pass"] for key, t in results["targets"].items()}
    assert verdicts == {
        "example_unchanged": True,  # ≤ 15 s
        "example_one_file": False,
        "code_location": True,
        "suite_fast": True,
        "suite_all": False,
        "data_ratio": True,  # 1.25 ≤ 1.5
        "peak_gb": True,
        "peak_growth": False,  # < 2, strictly
        "check_ratio": True,  # ≤ 1.25
        "sensor_ratio": True,  # ≤ 2
    }

    text = bench.report(results)
    rows = [line for line in text.splitlines() if line.endswith(("| PASS |", "| MISS |"))]
    assert len(rows) == len(bench.TARGETS)
    for row, target in zip(rows, bench.TARGETS, strict=True):
        assert row.startswith(f"| {target.issue} | {target.description} |")
    by_key = dict(zip((t.key for t in bench.TARGETS), rows, strict=True))
    assert "| 40.0 s / store 32.0 s (scan 20.0 s) | 3.2 | ≤ 1.5 × | PASS |" in by_key["data_ratio"]
    assert (
        "| 1.25 × | check 25.0 s / scan 20.0 s | 1.5 | ≤ 1.25 × | PASS |" in by_key["check_ratio"]
    )
    assert "| 15.00 s | full refresh 20.0 s | 1.5 | ≤ 15 s | PASS |" in by_key["example_unchanged"]
    assert "import dagster 0.60 s" in by_key["code_location"]
    assert "2026-12-07 15:00 UTC" in by_key["suite_all"] and by_key["suite_all"].endswith("MISS |")
    assert "2,800 / 1,400 MB" in by_key["peak_growth"]
    for label in ("bundled example, full refresh", "national ×2, full refresh", "baseline"):
        assert label in text
    assert "one new month" in text and "nothing changed" in text


def test_a_target_whose_run_failed_or_was_not_run_is_a_miss():
    results = _results(example_month=_run(1.0, 100, exit_code=1))
    target = results["targets"]["sensor_ratio"]
    assert not target["runs_succeeded"] and not target["pass"]
    assert not results["all_runs_succeeded"]
    assert results["targets"]["data_ratio"]["pass"]
    missing = bench.evaluate({"runs": {}})
    assert all(not t["pass"] for t in missing["targets"].values())
    assert all(math.isnan(v) for v in missing["figures"].values())
    assert "not measured" in missing["targets"]["suite_all"]["baseline"]
