"""The report's data: the marts of MARTS.md, the list categories (marts.list_categories, the
seed as dbt loads it), the 80/20 policy per year (marts.allocation_policy, likewise), and what
the report derives from them (the ruleset in force per year, the areas with a section, the ways
off the list, the next list if nothing changes). No HTML and no plotly here.

Which areas get a section of their own (`detail_areas`):

1. `BOLIGSOCIAL_REPORT_AREAS` (area ids) and/or `BOLIGSOCIAL_REPORT_MUNICIPALITY`
   (municipality codes, e.g. `330`), comma separated: exactly those areas (the union).
   Municipalities are read from the marts' `municipality_code` column when present,
   otherwise from `reference/areas.csv` of the sources folder (`BOLIGSOCIAL_SOURCES_DIR`).
2. Otherwise every area when there are at most `BOLIGSOCIAL_REPORT_MAX_AREAS` (default 30).
3. Otherwise (national scale) the `BOLIGSOCIAL_REPORT_MAX_AREAS` areas with the most severe
   status on the official list in the latest data year (then most residents, then name).
"""

from __future__ import annotations

import csv
import os
from collections import namedtuple
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import duckdb
import pandas as pd

from boligsocial.configuration import settings
from boligsocial.report import formatting as fmt
from boligsocial.report.formatting import missing

REPORT_MARTS = (
    "area_metrics",
    "area_criteria",
    "area_status",
    "area_list_status",
    "area_safety",
    "allocation_8020",
    "allocation_policy",
    "allocation_recommendation",
    "area_outlook",
    "area_outlook_criteria",
    "list_categories",
)
# Read when present: a delivery without the official list has no (or an empty) table.
RECONCILIATION = "area_list_reconciliation"
# The list categories per ruleset (labels, severities, years in force), as dbt loads the seed.
CATEGORIES = "list_categories"
NOT_LISTED = "none"
ALL_AREAS = "ALLE"
AREAS_VARIABLE = "BOLIGSOCIAL_REPORT_AREAS"
MUNICIPALITY_VARIABLE = "BOLIGSOCIAL_REPORT_MUNICIPALITY"
MAX_AREAS_VARIABLE = "BOLIGSOCIAL_REPORT_MAX_AREAS"
MAX_DETAIL_AREAS = 30


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def load_marts(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The marts the report reads, and the reconciliation with the official list when the
    connection has it."""
    frames = {mart: con.execute(f"select * from marts.{mart}").df() for mart in REPORT_MARTS}
    if _has_table(con, "marts", RECONCILIATION):
        frames[RECONCILIATION] = con.execute(f"select * from marts.{RECONCILIATION}").df()
    return frames


# --- The list categories ---------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    ruleset: str
    category: str
    label: str  # label_da, as published
    level: int  # 1 = the least severe list; 0 is "not on the list"
    base: str | None = None  # base_category
    consecutive_years: int | None = None  # the base N years in a row


class Rulesets:
    """The rulesets and their list categories, read from marts.list_categories: a ruleset or
    category added to the seed shows in the report with its label and severity, with no code
    change."""

    def __init__(self, categories: pd.DataFrame) -> None:
        # Severities rank the categories; levels number them densely from 1 (0: not listed).
        severities = sorted({int(s) for s in categories["severity"]})
        rank = {s: i + 1 for i, s in enumerate(severities)}
        self.categories: dict[tuple[str, str], Category] = {}
        self.first_year: dict[str, int] = {}
        for row in categories.itertuples(index=False):
            key = (str(row.ruleset), str(row.category))
            self.categories[key] = Category(
                *key,
                str(row.label_da),
                rank[int(row.severity)],
                None if missing(row.base_category) else str(row.base_category),
                None if missing(row.consecutive_years) else int(row.consecutive_years),
            )
            if not missing(row.first_year):
                year = int(row.first_year)
                self.first_year[key[0]] = min(self.first_year.get(key[0], year), year)
        self.levels = len(severities) + 1
        # Per category id, its newest ruleset's entry (for texts that span rulesets).
        self.newest: dict[str, Category] = {}
        for entry in sorted(self.categories.values(), key=lambda e: self.order(e.ruleset)):
            self.newest[entry.category] = entry
        self.abbreviations = _abbreviations(list(self.newest))

    def order(self, ruleset: str) -> tuple[int, str]:
        """Older rulesets first: by first year in force, then name."""
        return (self.first_year.get(ruleset, 0), ruleset)

    def entry(self, ruleset: str, category: str) -> Category | None:
        return self.categories.get((ruleset, category)) or self.newest.get(category)

    def level(self, ruleset: str, category: str) -> int:
        if category == NOT_LISTED:
            return 0
        entry = self.entry(ruleset, category)
        return entry.level if entry else 1

    def label(self, ruleset: str, category: str) -> str:
        if category == NOT_LISTED:
            return "Ikke på listen"
        entry = self.entry(ruleset, category)
        return entry.label if entry else category

    def ruleset_label(self, ruleset: str) -> str:
        year = self.first_year.get(ruleset)
        return f"Regler {year}" if year else f"Regelsæt {ruleset}"

    def abbreviation(self, category: str) -> str:
        return "–" if category == NOT_LISTED else self.abbreviations.get(category, category)

    def level_names(self) -> list[str]:
        """Per list level, the abbreviations of its categories (level 0: not on the list)."""
        names = ["Ikke på listen"] + [""] * (self.levels - 1)
        by_level: dict[int, list[str]] = {}
        for category, entry in reversed(self.newest.items()):
            by_level.setdefault(entry.level, []).append(self.abbreviation(category))
        for level, abbreviations in by_level.items():
            names[level] = " / ".join(abbreviations)
        return names

    def legend(self) -> str:
        """The abbreviations in words, least severe first."""
        entries = sorted(self.newest.values(), key=lambda e: (e.level, self.order(e.ruleset)))
        return (
            ", ".join(
                f"{self.abbreviation(e.category)} = {e.label[:1].lower()}{e.label[1:]}"
                for e in entries
            )
            + ", – = ikke på listen"
        )


def _abbreviations(categories: list[str]) -> dict[str, str]:
    """Initials of the category's words (haardt_ghetto: HG); the whole id where two clash."""
    initials = {c: "".join(part[:1] for part in c.split("_")).upper() for c in categories}
    clashes = {a for a in initials.values() if list(initials.values()).count(a) > 1}
    return {c: (c if a in clashes else a) for c, a in initials.items()}


# --- The marts -------------------------------------------------------------------------------


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 with NaN for NULL (plotly cannot serialise pd.NA or Decimal);
    booleans stay nullable (read them with `true`/`is_true`)."""
    frame = frame.copy()
    for column in frame.columns:
        series = frame[column]
        values = series.dropna()
        decimals = series.dtype == object and len(values) and isinstance(values.iloc[0], Decimal)
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if decimals or numeric:
            frame[column] = series.astype("float64")
    if "year" in frame.columns:
        frame["year"] = frame["year"].astype(int)
    return frame


def true(value: object) -> bool:
    """A nullable boolean read as a fact: NULL is not true."""
    return not missing(value) and bool(value)


def is_true(series: pd.Series) -> pd.Series:
    """`true` for every value (vectorised: NULL, None and NaN become False)."""
    return series.fillna(False).astype(bool)


@lru_cache(maxsize=32)
def _row_type(columns: tuple[str, ...]) -> type:
    return namedtuple("Row", columns, rename=True)


def rows(frame: pd.DataFrame) -> list:
    """frame.itertuples(index=False), without building a namedtuple class per call."""
    make = _row_type(tuple(frame.columns))._make
    return [
        make(values) for values in zip(*(frame[c].tolist() for c in frame.columns), strict=True)
    ]


def _with_tolerance(split: pd.DataFrame, policy: pd.DataFrame) -> pd.DataFrame:
    """allocation_8020's rows with the tolerance of their year (`tolerance_pp`): the mart has
    the year's target, marts.allocation_policy the row in force from each first_year on."""
    tolerance = {}
    for year in split["year"].dropna().unique():
        in_force = policy[policy["first_year"] <= year]
        if not in_force.empty:
            tolerance[year] = in_force.loc[in_force["first_year"].idxmax(), "tolerance_pp"]
    return split.assign(tolerance_pp=split["year"].map(tolerance))


@dataclass
class Marts:
    metrics: pd.DataFrame
    criteria: pd.DataFrame
    status: pd.DataFrame
    list_status: pd.DataFrame
    safety: pd.DataFrame
    split: pd.DataFrame
    recommendation: pd.DataFrame
    outlook: pd.DataFrame
    outlook_criteria: pd.DataFrame
    rulesets: Rulesets
    # None: no official list was delivered (no table, or an empty one).
    reconciliation: pd.DataFrame | None = None
    # year -> the ruleset in force in that year
    ruleset_in_force: dict[int, str] = field(default_factory=dict)
    area_names: dict[str, str] = field(default_factory=dict)
    # Derived once (the report reads them per area; filtering the whole marts per area and
    # chart was most of the build time at national scale).
    _official: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _residents: dict[tuple[str, int], float] = field(default_factory=dict, repr=False)
    # area -> its official list status row (named tuple) in its latest data year
    _latest: dict[str, tuple] = field(default_factory=dict, repr=False)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # (name, official) -> (named tuple maker, column values, row positions per area), and
    # (name, official, area, year) -> the named tuples (see `records`)
    _columns: dict[tuple, tuple] = field(default_factory=dict, repr=False)
    _records: dict[tuple, list] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame]) -> Marts:
        """From `load_marts`' frames."""
        missing_marts = [mart for mart in REPORT_MARTS if mart not in frames]
        if missing_marts:
            raise ValueError(f"the report needs the marts {', '.join(missing_marts)}")
        f = {mart: _plain_numbers(frames[mart]) for mart in REPORT_MARTS}
        reconciliation = frames.get(RECONCILIATION)
        marts = cls(
            f["area_metrics"],
            f["area_criteria"],
            f["area_status"],
            f["area_list_status"],
            f["area_safety"],
            _with_tolerance(f["allocation_8020"], f["allocation_policy"]),
            f["allocation_recommendation"],
            f["area_outlook"],
            f["area_outlook_criteria"],
            Rulesets(frames[CATEGORIES]),
            None
            if reconciliation is None or reconciliation.empty
            else _plain_numbers(reconciliation),
        )
        # When several rulesets are in force in a year: the newest (as the marts choose).
        in_force = marts.list_status[is_true(marts.list_status["in_force"])]
        for year, rulesets in in_force.groupby("year")["ruleset"]:
            marts.ruleset_in_force[int(year)] = max(set(rulesets), key=marts.rulesets.order)
        names: dict[str, str] = {}
        for frame in (marts.safety, marts.metrics, marts.outlook):
            for area_id, name in (
                frame[["area_id", "area_name"]].drop_duplicates().itertuples(index=False)
            ):
                if not missing(name):
                    names.setdefault(area_id, name)
        ids = set(names)
        for frame in (marts.list_status, marts.split, marts.recommendation):
            ids |= set(frame["area_id"].dropna().unique())
        ids.discard(ALL_AREAS)
        marts.area_names = {a: names.get(a, a) for a in sorted(ids, key=lambda a: names.get(a, a))}
        residents = marts.metrics[marts.metrics["metric"] == "residents"]
        for area_id, year, value in residents[["area_id", "year", "value"]].itertuples(index=False):
            marts._residents.setdefault((area_id, int(year)), value)
        official = marts.official(marts.list_status)
        latest = official["year"] == official.groupby("area_id")["year"].transform("max")
        for row in rows(official[latest]):
            marts._latest.setdefault(row.area_id, row)
        return marts

    def official(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of frame evaluated with the ruleset in force in their year."""
        if frame.empty:
            return frame
        for name in ("list_status", "criteria", "status"):
            if frame is getattr(self, name):
                if name not in self._official:
                    self._official[name] = self._official_rows(frame)
                return self._official[name]
        return self._official_rows(frame)

    def _official_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        wanted = frame["year"].map(self.ruleset_in_force)
        return frame[frame["ruleset"] == wanted]

    def records(
        self, name: str, area_id: str, year: int | None = None, official: bool = False
    ) -> list:
        """The rows of attribute `name` (e.g. "safety") for one area, and one year if given, as
        named tuples in mart order; `official`: only those evaluated with the ruleset in force
        (see `official`). Plain Python: the per-area logic on a few dozen rows is much faster
        than pandas. The tuples are made when first asked for: most areas are only read in
        their latest year, and most have no section of their own."""
        if (name, official) not in self._columns:
            frame = self.official(getattr(self, name)) if official else getattr(self, name)
            columns = {c: frame[c].tolist() for c in frame.columns}
            positions: dict[str, list[int]] = {}
            for i, area in enumerate(columns["area_id"]):
                positions.setdefault(area, []).append(i)
            make = _row_type(tuple(columns))._make
            self._columns[name, official] = (make, columns, positions)
        key = (name, official, area_id, year)
        if key not in self._records:
            make, columns, positions = self._columns[name, official]
            years = columns.get("year")  # area_outlook has none (latest_year, outlook_year)
            self._records[key] = [
                make([column[i] for column in columns.values()])
                for i in positions.get(area_id, ())
                if year is None or years[i] == year
            ]
        return self._records[key]

    @property
    def allocation(self) -> pd.DataFrame:
        """allocation_recommendation with actual_budget_dkk: the actual share of the year's
        total budget (drift + projekt of all areas)."""
        if "allocation" not in self._cache:
            totals = self.split[self.split["area_id"] == ALL_AREAS]
            totals = totals.assign(total=totals["budget_drift_dkk"] + totals["budget_projekt_dkk"])
            joined = self.recommendation.merge(totals[["year", "total"]], on="year", how="left")
            self._cache["allocation"] = joined.assign(
                actual_budget_dkk=joined["actual_share"] * joined["total"]
            )
        return self._cache["allocation"]

    def disagreements(self) -> pd.DataFrame:
        """Reconciliation rows where the computed status differs from the official list."""
        if self.reconciliation is None:
            return pd.DataFrame()
        frame = self.reconciliation
        disagree = frame[frame["agrees"].notna() & ~is_true(frame["agrees"])]
        return disagree.sort_values(["year", "area_name", "area_id"], ascending=[False, True, True])

    def latest_status(self, area_id: str) -> tuple | None:
        """The official list status row (named tuple) of an area in its latest data year."""
        return self._latest.get(area_id)

    def latest_year(self, area_id: str | None = None) -> int | None:
        if area_id is not None:
            row = self._latest.get(area_id)
            return None if row is None else row.year
        return max(row.year for row in self._latest.values()) if self._latest else None

    def residents(self, area_id: str, year: int) -> float | None:
        return self._residents.get((area_id, year))

    def level(self, row) -> int:
        """The list level of an area_list_status row (named tuple)."""
        return self.rulesets.level(row.ruleset, row.status)


# --- Which areas get a section ---------------------------------------------------------------


def area_municipalities(marts: Marts) -> dict[str, str]:
    """area_id -> municipality code: from the marts when they carry it, else from
    reference/areas.csv of the sources folder (empty when neither is there)."""
    if "municipality_code" in marts.metrics.columns:
        codes = marts.metrics[["area_id", "municipality_code"]].dropna().drop_duplicates("area_id")
        return {a: _code(c) for a, c in codes.itertuples(index=False)}
    path = settings.sources_dir() / "reference" / "areas.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as file:
        sample = file.readline()
        file.seek(0)
        reader = csv.DictReader(file, delimiter=";" if ";" in sample else ",")
        return {
            row["area_id"].strip(): _code(row["municipality_code"])
            for row in reader
            if row.get("area_id") and row.get("municipality_code")
        }


def _code(value: object) -> str:
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def env_list(variable: str) -> list[str]:
    raw = os.environ.get(variable, "")
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def max_detail_areas() -> int:
    raw = os.environ.get(MAX_AREAS_VARIABLE, "").strip()
    return int(raw) if raw else MAX_DETAIL_AREAS


def detail_areas(
    marts: Marts,
    areas: Iterable[str] | None = None,
    municipalities: Iterable[str] | None = None,
    max_areas: int | None = None,
) -> list[str]:
    """The areas that get a section of their own, in report order (see the module docstring).

    Arguments left out are read from the environment."""
    areas = list(env_list(AREAS_VARIABLE) if areas is None else areas)
    municipalities = list(
        env_list(MUNICIPALITY_VARIABLE) if municipalities is None else municipalities
    )
    max_areas = max_detail_areas() if max_areas is None else max_areas
    if areas or municipalities:
        wanted = {a.upper() for a in areas}
        codes = {_code(c) for c in municipalities}
        if codes:
            of = area_municipalities(marts)
            wanted |= {a for a in marts.area_names if of.get(a) in codes}
        return [a for a in marts.area_names if a.upper() in wanted]
    if len(marts.area_names) <= max_areas:
        return list(marts.area_names)
    ranked = []
    for area_id in marts.area_names:
        year = marts.latest_year(area_id)
        if year is None:
            continue
        level = marts.level(marts.latest_status(area_id))
        if level > 0:
            residents = marts.residents(area_id, year)
            ranked.append((-level, -(0 if missing(residents) else residents), area_id))
    chosen = {
        a
        for *_, a in sorted(ranked, key=lambda r: (r[0], r[1], marts.area_names[r[2]]))[:max_areas]
    }
    return [a for a in marts.area_names if a in chosen]


def selection_rule() -> str:
    """The selection rule in force, in Danish (for the first page)."""
    if env_list(AREAS_VARIABLE) or env_list(MUNICIPALITY_VARIABLE):
        return "de valgte områder og kommuner"
    return (
        f"de højst {max_detail_areas()} områder med den mest alvorlige status på listen i "
        "seneste dataår"
    )


# --- The way off the list ----------------------------------------------------------------------

# Criteria are named by their metric (the contract's metrics, in its order).
METRIC_LABELS = {
    "unemployment_18_64": "Uden for arbejde eller uddannelse (18–64 år)",
    "crime_18plus": "Dømte for straffelov, våbenlov eller narkotika (18+ år)",
    "basic_education_30_59": "Kun grundskole (30–59 år)",
    "income_15_64": "Gns. bruttoindkomst (15–64 år) i forhold til regionen",
    "non_western": "Indvandrere og efterkommere fra ikke-vestlige lande",
}
INCOME_METRICS = {"income_15_64"}


def criterion_label(criterion) -> str:
    """An area_criteria row's criterion in Danish (its id when the metric is unknown)."""
    return METRIC_LABELS.get(criterion.metric, criterion.criterion)


@dataclass
class ExitRoute:
    category: str
    label: str  # the category's label
    text: str  # what it takes, in Danish (plain text)
    persons: float | None  # persons for the cheapest way out of the category, if reachable


def exit_routes(marts: Marts, area_id: str, year: int) -> list[ExitRoute]:
    """What it takes, in year `year`, for the area to stop qualifying for each category it is in."""
    status = [r for r in marts.records("status", area_id, year, official=True) if true(r.qualifies)]
    criteria = marts.records("criteria", area_id, year, official=True)
    routes = []
    for row in sorted(status, key=lambda r: r.category):
        own = [c for c in criteria if c.category == row.category]
        count = [c for c in own if c.role == "count" and true(c.met)]
        gates = [c for c in own if c.role == "gate" and true(c.met)]
        parts, best = [], None
        if count and not missing(row.criteria_required):
            needed = int(row.criteria_met) - int(row.criteria_required) + 1
            # Fewest persons first (unknown last); ties keep the mart's order.
            cheapest = sorted(count, key=_persons_key)[:needed]
            names = [f"{criterion_label(c).lower()} ({exit_persons(c)})" for c in cheapest]
            parts.append(
                f"{int(row.criteria_met)} kriterier er opfyldt, og "
                f"{int(row.criteria_required)} kræves: {needed} "
                f"{'kriterium' if needed == 1 else 'kriterier'} skal under grænsen. "
                f"Billigst: {' og '.join(names)}"
            )
            if all(not missing(c.persons_to_exit) for c in cheapest):
                best = float(sum(c.persons_to_exit for c in cheapest))
                parts[-1] += f", i alt {fmt.persons(best)}"
        for gate in gates:
            parts.append(f"eller {criterion_label(gate).lower()} ({exit_persons(gate)})")
            if not missing(gate.persons_to_exit):
                best = min(x for x in (best, float(gate.persons_to_exit)) if x is not None)
        if not parts:
            parts.append("kategorien følger af en anden kategori (se ovenfor)")
        routes.append(
            ExitRoute(
                row.category,
                marts.rulesets.label(row.ruleset, row.category),
                "; ".join(parts) + ".",
                best,
            )
        )
    return routes


def _persons_key(criterion) -> tuple[bool, float]:
    unknown = missing(criterion.persons_to_exit)
    return (unknown, 0.0 if unknown else criterion.persons_to_exit)


def exit_persons(criterion) -> str:
    """The persons to exit of a met criterion, or why there is no such number."""
    if not missing(criterion.persons_to_exit):
        return fmt.persons(criterion.persons_to_exit)
    if criterion.metric in INCOME_METRICS:
        return "opgøres ikke i personer"
    return "kan ikke nås alene med ét års udvikling"


# --- The next list, if nothing changes ---------------------------------------------------------


def outlook_row(marts: Marts, area_id: str):
    """The area's area_outlook row (named tuple) under the newest of the rulesets in force in
    its outlook year, or None (no statistics)."""
    rows = marts.records("outlook", area_id)
    return max(rows, key=lambda r: marts.rulesets.order(r.ruleset)) if rows else None


def outlook_criteria(marts: Marts, row) -> list:
    """The area_outlook_criteria rows (named tuples) of an area_outlook row's area and ruleset."""
    return [
        c
        for c in marts.records("outlook_criteria", row.area_id, int(row.outlook_year))
        if c.ruleset == row.ruleset
    ]


def route_criteria(marts: Marts, row) -> list:
    """The criteria (area_outlook_criteria rows) of the cheapest route to stay off the outlook
    status, cheapest first: persons_to_avoid_criteria names them `category.criterion`."""
    if missing(row.persons_to_avoid_criteria):
        return []
    by_name = {f"{c.category}.{c.criterion}": c for c in outlook_criteria(marts, row)}
    names = str(row.persons_to_avoid_criteria).split(", ")
    return [by_name[name] for name in names if name in by_name]


def carried_benchmark_years(marts: Marts, rows: Iterable) -> list[int]:
    """The years whose benchmarks stand for the outlook years of the area_outlook rows, where
    those were not delivered."""
    years = {
        int(c.benchmark_carried_from_year)
        for row in rows
        for c in outlook_criteria(marts, row)
        if not missing(c.benchmark_carried_from_year)
    }
    return sorted(years)
