"""An independent reference for the criteria marts and the outlook, written from MARTS.md's words
(not from the dbt SQL): area_metrics, area_criteria, area_status, area_list_status,
area_outlook_criteria and area_outlook, computed in exact arithmetic (fractions) from the raw
tables as loaded and the ruleset seeds.

`compute(warehouse)` returns {mart: {key: {column: value}}}; `compare` lists every cell that
differs from a warehouse's marts (doubles within 1e-9, the rest exactly).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb

from boligsocial.configuration import settings

# MARTS.md, "Metrics": numerator MÅL, denominator MÅL, benchmark MÅL, whether the benchmark is
# percent. Income is no share: its persons_to_exit is NULL.
METRICS = {
    "residents": ("BEF", None, None, False),
    "unemployment_18_64": ("UDENFOR_18_64", "BEF_18_64", "UDENFOR_PCT_18_64", True),
    "crime_18plus": ("DOEMTE_18PLUS", "BEF_18PLUS", "DOEMTE_PCT_18PLUS", True),
    "basic_education_30_59": ("GRUNDSKOLE_30_59", "BEF_30_59", "GRUNDSKOLE_PCT_30_59", True),
    "non_western": ("IKKEVEST", "BEF", "IKKEVEST_PCT", True),
    "income_15_64": ("INDK_SUM_15_64", "INDK_PERS_15_64", "INDK_GNS_15_64", False),
}
SHARES = {"unemployment_18_64", "crime_18plus", "basic_education_30_59", "non_western"}
LEVELS = {"land": "national", "region": "region", "kommune": "municipality"}
NOT_LISTED, NOT_LISTED_LABEL = "none", "Ikke på listen"

KEYS = {
    "area_metrics": ("area_id", "year", "metric"),
    "area_criteria": ("area_id", "year", "ruleset", "category", "criterion"),
    "area_status": ("area_id", "year", "ruleset", "category"),
    "area_list_status": ("area_id", "year", "ruleset"),
    "area_outlook_criteria": ("area_id", "year", "ruleset", "category", "criterion"),
    "area_outlook": ("area_id", "ruleset"),
}


def _number(value: float | None) -> Fraction | None:
    """A raw double as the decimal it was delivered as (repr is the shortest round trip)."""
    return None if value is None else Fraction(repr(float(value)))


def _seed(name: str) -> list[dict[str, str]]:
    with (settings.DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


@dataclass(frozen=True)
class Metric:
    numerator: Fraction | None
    denominator: Fraction | None
    value: Fraction | None
    has_suppressed: bool


class Reference:
    def __init__(self, warehouse: Path) -> None:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            self.areas = {
                a: (name, municipality, region)
                for a, name, municipality, region in con.execute(
                    "select area_id, area_name, municipality_code, region_code from raw.areas"
                ).fetchall()
            }
            departments = con.execute(
                "select housing_org, department_no, area_id, valid_from, valid_to "
                "from raw.departments"
            ).fetchall()
            statistics = con.execute(
                "select boligorganisation, afdeling, maal, tid, indhold, indhold_suppressed "
                "from raw.area_statistics"
            ).fetchall()
            benchmarks = con.execute(
                "select tid, niveau, kode, maal, indhold from raw.benchmarks"
            ).fetchall()
        self.categories = {(c["ruleset"], c["category"]): c for c in _seed("ruleset_categories")}
        self.criteria = _seed("ruleset_criteria")
        # (org, department, year) -> {MÅL: (value or None, suppressed)}
        self.cells: dict[tuple, dict[str, tuple[Fraction | None, bool]]] = defaultdict(dict)
        for org, number, maal, year, value, suppressed in statistics:
            self.cells[org, number, year][maal] = (_number(value), bool(suppressed))
        self.membership = departments
        # (year, level, code, MÅL) -> value as a ratio / DKK, None when suppressed
        self.benchmarks: dict[tuple, Fraction | None] = {}
        for year, niveau, code, maal, value in benchmarks:
            number = _number(value)
            percent = next((m[3] for m in METRICS.values() if m[2] == maal), False)
            if number is not None and percent:
                number /= 100
            self.benchmarks[year, LEVELS[niveau], code, maal] = number
        self.metrics = self._metrics()

    # --- Metrics ---------------------------------------------------------------------------

    def _departments(self, area_id: str, year: int) -> list[tuple]:
        january = date(year, 1, 1)
        return [
            (org, number)
            for org, number, area, valid_from, valid_to in self.membership
            if area == area_id
            and valid_from <= january
            and (valid_to is None or january <= valid_to)
        ]

    def _metrics(self) -> dict[tuple[str, int], dict[str, Metric]]:
        years = sorted({year for (_, _, year) in self.cells})
        out = {}
        for area_id in self.areas:
            for year in years:
                present = [d for d in self._departments(area_id, year) if (*d, year) in self.cells]
                if not present:
                    continue
                out[area_id, year] = {
                    metric: self._metric(present, year, *METRICS[metric][:2]) for metric in METRICS
                }
        return out

    def _metric(self, departments: list, year: int, num: str, den: str | None) -> Metric:
        numerator = denominator = None
        suppressed = False
        for org, number in departments:
            cells = self.cells[org, number, year]
            n, n_suppressed = cells.get(num, (None, False))
            d, d_suppressed = cells.get(den, (None, False)) if den else (None, False)
            suppressed |= n_suppressed or d_suppressed
            if n is None or (den is not None and d is None):
                continue  # the department leaves both sums of this metric
            numerator = (numerator or 0) + n
            if den is not None:
                denominator = (denominator or 0) + d
        if den is None:
            return Metric(numerator, None, numerator, suppressed)
        value = numerator / denominator if numerator is not None and denominator else None
        return Metric(numerator, denominator, value, suppressed)

    # --- Criteria --------------------------------------------------------------------------

    def benchmark(self, year: int, level: str, code: str, metric: str) -> Fraction | None:
        return self.benchmarks.get((year, level, code, METRICS[metric][2]))

    def criterion(
        self,
        area_id: str,
        year: int,
        c: dict[str, str],
        metrics: dict[tuple[str, int], dict[str, Metric]],
        benchmark=None,
    ) -> dict:
        """A criterion for (area, year): `metrics` per (area, year); `benchmark(year, level,
        code, metric)` the comparator (default: as delivered)."""
        benchmark = benchmark or self.benchmark
        metric, w = c["metric"], int(c["window_years"])
        window = range(year - w + 1, year + 1)
        values = [metrics.get((area_id, y), {}).get(metric) for y in window]
        values = [None if m is None else m.value for m in values]
        value = None if any(v is None for v in values) else sum(values) / w
        parameter = Fraction(c["threshold"])
        threshold = None
        if c["threshold_basis"] == "absolute":
            threshold = parameter
        elif c["threshold_basis"] == "national_average":
            national = [benchmark(y, "national", "DK", metric) for y in window]
            if all(v is not None for v in national):
                threshold = parameter * sum(national) / w
        else:
            regional = benchmark(year, "region", self.areas[area_id][2], metric)
            threshold = None if regional is None else parameter * regional
        operator = c["operator"]
        met = margin = None
        if value is not None and threshold is not None:
            met = {
                ">": value > threshold,
                ">=": value >= threshold,
                "<": value < threshold,
                "<=": value <= threshold,
            }[operator]
        if value is not None and threshold is not None:
            margin = value - threshold if operator in (">", ">=") else threshold - value
        persons = None
        if met is not None and metric in SHARES and operator in (">", ">="):
            if not met:
                persons = 0
            else:
                current = metrics[area_id, year][metric]
                n, d = current.numerator, current.denominator
                others = sum(values[:-1])
                x = n - d * (w * threshold - others)
                k = math.ceil(x) if operator == ">" else math.floor(x) + 1
                persons = None if k > n else k
        return {
            "role": c["role"],
            "metric": metric,
            "value": value,
            "operator": operator,
            "threshold": threshold,
            "met": met,
            "margin": margin,
            "persons_to_exit": persons,
        }

    def criteria_rows(self, area_id: str, year: int, metrics, benchmark=None) -> dict:
        return {
            (c["ruleset"], c["category"], c["criterion"]): self.criterion(
                area_id, year, c, metrics, benchmark
            )
            for c in self.criteria
        }

    # --- Status ----------------------------------------------------------------------------

    def chain(self, ruleset: str, category: str) -> list[str]:
        """The category and every category up its base chain, in order."""
        chain = [category]
        while base := self.categories[ruleset, chain[-1]]["base_category"]:
            chain.append(base)
        return chain

    def root(self, ruleset: str, category: str) -> str | None:
        counting = {(c["ruleset"], c["category"]) for c in self.criteria if c["role"] == "count"}
        return next((a for a in self.chain(ruleset, category) if (ruleset, a) in counting), None)

    def status_rows(
        self,
        area_id: str,
        years: list[int],
        criteria: dict[int, dict],
        residents: dict[int, Fraction | None],
    ) -> dict[tuple[int, str, str], dict]:
        """area_status' rows for the area's years (ascending); criteria[year] as criteria_rows."""
        rows: dict[tuple[int, str, str], dict] = {}
        qualifies: dict[tuple[int, str, str], bool] = {}

        def qualified(year: int, ruleset: str, category: str) -> bool:
            key = (year, ruleset, category)
            if key not in qualifies:
                qualifies[key] = self._qualifies(
                    year, ruleset, category, criteria, residents, qualified
                )
            return qualifies[key]

        for year in years:
            for (ruleset, category), c in self.categories.items():
                own = {k[2]: v for k, v in criteria[year].items() if k[:2] == (ruleset, category)}
                # A category with a base category takes criteria_met and criteria_required
                # of its root; one without counts its own.
                root = self.root(ruleset, category) if c["base_category"] else category
                root_criteria = {
                    k[2]: v for k, v in criteria[year].items() if k[:2] == (ruleset, root)
                }
                root_row = self.categories.get((ruleset, root), {})
                ok = qualified(year, ruleset, category)
                run = 0
                while (year - run) in criteria and qualified(year - run, ruleset, category):
                    run += 1
                chain_values = [
                    v["value"]
                    for k, v in criteria[year].items()
                    if k[0] == ruleset and k[1] in self.chain(ruleset, category)
                ]
                first, last = int(c["first_year"]), _int(c["last_year"])
                resident = residents.get(year)
                rows[year, ruleset, category] = {
                    "residents": resident,
                    "eligible": None if resident is None else resident >= int(c["min_residents"]),
                    "criteria_met": sum(
                        1 for v in root_criteria.values() if v["role"] == "count" and v["met"]
                    ),
                    "criteria_required": _int(root_row.get("criteria_required", "")),
                    "gate_met": all(v["met"] is True for v in own.values() if v["role"] == "gate"),
                    "qualifies": ok,
                    "consecutive_years_qualified": run if ok else 0,
                    "in_force": first <= year and (last is None or year <= last),
                    "complete": all(v is not None for v in chain_values),
                }
        return rows

    def _qualifies(self, year, ruleset, category, criteria, residents, qualified) -> bool:
        if year not in criteria:
            return False  # a year without a row breaks a run
        c = self.categories[ruleset, category]
        rows = criteria[year]
        own = [v for k, v in rows.items() if k[:2] == (ruleset, category)]
        gates = all(v["met"] is True for v in own if v["role"] == "gate")
        if not c["base_category"]:
            resident = residents.get(year)
            eligible = resident is not None and resident >= int(c["min_residents"])
            met = sum(1 for v in own if v["role"] == "count" and v["met"])
            required = _int(c["criteria_required"])
            return bool(eligible and required is not None and met >= required and gates)
        if not c["consecutive_years"]:
            return qualified(year, ruleset, c["base_category"]) and gates
        n = int(c["consecutive_years"])
        return all(qualified(y, ruleset, c["base_category"]) for y in range(year - n + 1, year + 1))

    def list_status(self, status: dict, year: int, ruleset: str) -> tuple[str, str, bool]:
        """(status, status_label_da, in_force) of one area-year under a ruleset."""
        candidates = [
            (-int(self.categories[ruleset, cat]["severity"]), cat)
            for (y, r, cat), row in status.items()
            if y == year and r == ruleset and row["qualifies"]
        ]
        in_force = any(
            row["in_force"] for (y, r, _), row in status.items() if (y, r) == (year, ruleset)
        )
        if not candidates:
            return NOT_LISTED, NOT_LISTED_LABEL, in_force
        category = min(candidates)[1]
        return category, self.categories[ruleset, category]["label_da"], in_force

    # --- The marts -------------------------------------------------------------------------

    def compute(self) -> dict[str, dict[tuple, dict]]:
        marts: dict[str, dict[tuple, dict]] = {name: {} for name in KEYS}
        rulesets = sorted({r for r, _ in self.categories})
        for area_id, (name, municipality, _) in self.areas.items():
            years = sorted(y for a, y in self.metrics if a == area_id)
            if not years:
                continue
            criteria = {y: self.criteria_rows(area_id, y, self.metrics) for y in years}
            residents = {y: self.metrics[area_id, y]["residents"].value for y in years}
            status = self.status_rows(area_id, years, criteria, residents)
            for year in years:
                for metric, m in self.metrics[area_id, year].items():
                    bench = METRICS[metric][2]
                    marts["area_metrics"][area_id, year, metric] = {
                        "area_name": name,
                        "numerator": m.numerator,
                        "denominator": m.denominator,
                        "value": m.value,
                        "has_suppressed": m.has_suppressed,
                        "municipality_value": bench
                        and self.benchmarks.get((year, "municipality", municipality, bench)),
                        "national_value": bench
                        and self.benchmarks.get((year, "national", "DK", bench)),
                    }
                for key, row in criteria[year].items():
                    marts["area_criteria"][(area_id, year, *key)] = row
                for ruleset in rulesets:
                    s, label, in_force = self.list_status(status, year, ruleset)
                    marts["area_list_status"][area_id, year, ruleset] = {
                        "status": s,
                        "status_label_da": label,
                        "in_force": in_force,
                    }
            for (year, ruleset, category), row in status.items():
                marts["area_status"][area_id, year, ruleset, category] = row
            self._outlook(area_id, name, years, criteria, residents, status, marts)
        return marts

    def _carried_from(self, outlook_year: int, level: str, code: str, metric: str) -> int | None:
        """The year whose benchmark stands for O: none when O has a value, else the latest
        earlier year with one (a suppressed cell has no value)."""
        if self.benchmark(outlook_year, level, code, metric) is not None:
            return None
        maal = METRICS[metric][2]
        earlier = [
            y
            for (y, lv, cd, m), v in self.benchmarks.items()
            if (lv, cd, m) == (level, code, maal) and y < outlook_year and v is not None
        ]
        return max(earlier) if earlier else None

    def _outlook_benchmark(self, outlook_year: int):
        """Benchmarks as delivered, except in O: carried forward where O has no value."""

        def benchmark(year: int, level: str, code: str, metric: str) -> Fraction | None:
            carried = (
                self._carried_from(year, level, code, metric) if year == outlook_year else None
            )
            return self.benchmark(carried or year, level, code, metric)

        return benchmark

    def _outlook(self, area_id, name, years, criteria, residents, status, marts) -> None:
        latest = years[-1]
        outlook = latest + 1
        # Persistence: every metric keeps its year-Y numerator, denominator and value in O.
        metrics = dict(self.metrics)
        metrics[area_id, outlook] = self.metrics[area_id, latest]
        o_criteria = self.criteria_rows(area_id, outlook, metrics, self._outlook_benchmark(outlook))
        all_criteria = {**criteria, outlook: o_criteria}
        all_residents = {**residents, outlook: residents[latest]}
        o_status = self.status_rows(area_id, [*years, outlook], all_criteria, all_residents)
        region = self.areas[area_id][2]
        for ruleset in sorted({r for r, _ in self.categories}):
            listed, label, in_force = self.list_status(o_status, outlook, ruleset)
            if not in_force:
                continue
            for (r, category, criterion), row in o_criteria.items():
                if r != ruleset:
                    continue
                basis = next(
                    c["threshold_basis"]
                    for c in self.criteria
                    if (c["ruleset"], c["category"], c["criterion"]) == (r, category, criterion)
                )
                carried = None
                if basis == "national_average":
                    carried = self._carried_from(outlook, "national", "DK", row["metric"])
                elif basis == "regional_average":
                    carried = self._carried_from(outlook, "region", region, row["metric"])
                marts["area_outlook_criteria"][area_id, outlook, r, category, criterion] = {
                    **row,
                    "benchmark_carried_from_year": carried,
                }
            before = marts["area_list_status"][area_id, latest, ruleset]["status"]
            severity = {
                cat: int(c["severity"]) for (r, cat), c in self.categories.items() if r == ruleset
            }
            rank = {NOT_LISTED: -math.inf, **severity}
            persons, route = 0, None
            if listed != NOT_LISTED:
                persons, route = self._cheapest_route(
                    ruleset, listed, o_criteria, o_status[outlook, ruleset, listed]
                )
            marts["area_outlook"][area_id, ruleset] = {
                "area_name": name,
                "latest_year": latest,
                "outlook_year": outlook,
                "status_latest": before,
                "status_outlook": listed,
                "status_outlook_label_da": label,
                "escalates": rank[listed] > rank[before],
                "consecutive_years_outlook": 0
                if listed == NOT_LISTED
                else o_status[outlook, ruleset, listed]["consecutive_years_qualified"],
                "persons_to_avoid": persons,
                "persons_to_avoid_criteria": route,
                "assumption": "persistence",
            }

    def _cheapest_route(
        self, ruleset, category, criteria, status_row
    ) -> tuple[int | None, str | None]:
        """MARTS.md's routes (a) and (b); ties: fewer criteria, then the names."""
        routes = []
        root = self.root(ruleset, category)
        met = sorted(
            (row["persons_to_exit"], f"{r_cat}.{criterion}")
            for (r, r_cat, criterion), row in criteria.items()
            if r == ruleset
            and r_cat == root
            and row["role"] == "count"
            and row["met"]
            and row["persons_to_exit"] is not None
        )
        needed = status_row["criteria_met"] - (status_row["criteria_required"] or 0) + 1
        if needed >= 1 and len(met) >= needed:
            chosen = met[:needed]
            routes.append((sum(p for p, _ in chosen), needed, ", ".join(n for _, n in chosen)))
        chain = self.chain(ruleset, category)
        for (r, r_cat, criterion), row in criteria.items():
            if (
                r == ruleset
                and r_cat in chain
                and row["role"] == "gate"
                and row["met"]
                and row["persons_to_exit"] is not None
            ):
                routes.append((row["persons_to_exit"], 1, f"{r_cat}.{criterion}"))
        if not routes:
            return None, None
        persons, _, names = min(routes)
        return persons, names


def compute(warehouse: Path) -> dict[str, dict[tuple, dict]]:
    return Reference(warehouse).compute()


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, Fraction | float) and not isinstance(expected, bool):
        if not isinstance(actual, float | int) or isinstance(actual, bool):
            return False
        return math.isclose(float(expected), float(actual), rel_tol=1e-12, abs_tol=1e-9)
    if expected is None or isinstance(expected, bool):
        return actual is expected
    return expected == actual


def compare(warehouse: Path, reference: dict[str, dict[tuple, dict]]) -> list[str]:
    """Every difference between the warehouse's marts and the reference: missing or extra rows,
    missing columns, and cells that differ."""
    problems = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart, expected_rows in reference.items():
            cursor = con.execute(f"select * from marts.{mart}")
            columns = [d[0] for d in cursor.description]
            actual_rows = {}
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                actual_rows[tuple(row[k] for k in KEYS[mart])] = row
            for key in sorted(set(expected_rows) ^ set(actual_rows), key=str):
                where = "missing from" if key in expected_rows else "extra in"
                problems.append(f"{mart} {key}: row {where} the warehouse")
            for key, expected in expected_rows.items():
                actual = actual_rows.get(key)
                if actual is None:
                    continue
                for column, want in expected.items():
                    if column not in actual:
                        problems.append(f"{mart}: no column {column}")
                    elif not _same(want, actual[column]):
                        problems.append(f"{mart} {key} {column}: {want!r} != {actual[column]!r}")
    return problems
