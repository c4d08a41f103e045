"""The page: the model's figures and texts put into templates/report.html.j2 (Jinja2, with
report.css beside it). One self-contained file: plotly.js is inlined once, nothing is fetched.

A first page (Overblik) gives the whole picture for every area in the marts; then one section
per *detail area* (`model.detail_areas`). With more areas than `BOLIGSOCIAL_REPORT_MAX_AREAS`
the first page is condensed, as 250 lines or rows per chart are unreadable: key points count
the areas per category instead of naming them, the list status becomes the number of areas per
list level and year (plus a year-by-area grid for the detail areas), tryghedsindeks shows the
median and the 10–90 % range of the areas, and the allocation is one point per area. The
overview table keeps one row per area, always.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from boligsocial.configuration import config as configuration
from boligsocial.report import charts
from boligsocial.report import formatting as fmt
from boligsocial.report.model import (
    ALL_AREAS,
    NOT_LISTED,
    Marts,
    carried_benchmark_years,
    criterion_label,
    detail_areas,
    exit_persons,
    exit_routes,
    load_marts,
    max_detail_areas,
    outlook_criteria,
    outlook_row,
    route_criteria,
    rows,
    selection_rule,
    true,
)

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "locale": "da",
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
# plotly's JSON escapes < > and /; these keep the rest of a figure inert inside <script>.
_SCRIPT_ESCAPES = (("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("boligsocial.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("j2",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        number=fmt.number, percent=fmt.percent, kroner=fmt.kroner, persons=fmt.persons
    )
    return environment


def _script_json(figure: go.Figure) -> str:
    text = pio.to_json(figure, validate=False)
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return text


@dataclass
class Chart:
    """A titled chart box; figure None shows `empty` instead."""

    title: str
    figure: go.Figure | None
    note: str = ""
    empty: str = "Ingen data."
    id: str = ""
    json: str = ""
    height: int | None = None


@dataclass
class Charts:
    """Numbers the drawn charts in page order and serialises their figures."""

    count: itertools.count = field(default_factory=lambda: itertools.count(1))
    drawn: int = 0

    def __call__(
        self, title: str, figure: go.Figure | None, note: str = "", empty: str = ""
    ) -> Chart:
        chart = Chart(title, figure, note, empty or "Ingen data.")
        if figure is not None:
            self.drawn = next(self.count)
            chart.id = f"chart-{self.drawn}"
            chart.json = _script_json(figure)
            chart.height = figure.layout.height
        return chart


@dataclass
class Status:
    """An area's list status in a year, as a coloured badge."""

    label: str
    level: int

    @property
    def color(self) -> str:
        return charts.level_color(self.level)

    @property
    def dark(self) -> bool:
        return self.level >= 3


def _status(marts: Marts, ruleset: str, category: str, label: str | None = None) -> Status:
    return Status(
        label or marts.rulesets.label(ruleset, category), marts.rulesets.level(ruleset, category)
    )


def _latest(frame: pd.DataFrame, column: str) -> tuple[int | None, object]:
    present = frame.dropna(subset=[column]).sort_values("year")
    return (
        (None, None) if present.empty else (int(present["year"].iloc[-1]), present[column].iloc[-1])
    )


def _latest_by_area(frame: pd.DataFrame, column: str) -> dict[str, tuple[int, object]]:
    """area_id -> (year, value) of its latest year with a value (_latest for every area)."""
    present = frame.dropna(subset=[column]).sort_values("year", kind="stable")
    present = present.groupby("area_id", sort=False).tail(1)
    return {
        a: (int(y), v)
        for a, y, v in zip(
            present["area_id"], present["year"], present[column].tolist(), strict=True
        )
    }


def _key_points(
    marts: Marts, compact: bool, detail: Sequence[str], rule: str, vision: str
) -> list[str]:
    points = []
    names = marts.area_names
    year = marts.latest_year()
    official = marts.official(marts.list_status)
    if year is not None:
        now = official[official["year"] == year]
        listed = now[now["status"] != "none"]
        ruleset = marts.rulesets.ruleset_label(marts.ruleset_in_force[year])
        if listed.empty:
            points.append(f"I {year} er ingen af områderne på en liste ({ruleset}).")
        elif compact:
            counts = listed.assign(level=[marts.level(r) for r in rows(listed)])
            counts = counts.groupby(["level", "status_label_da"]).size().sort_index(ascending=False)
            points.append(
                f"I {year} er {len(listed)} af {len(names)} områder på en liste efter de gældende "
                f"regler ({ruleset}): "
                + ", ".join(f"{label} {n}" for (_, label), n in counts.items())
                + " (se tabellen)."
            )
        else:
            areas = [
                f"{names.get(r.area_id, r.area_id)} ({r.status_label_da})" for r in rows(listed)
            ]
            points.append(
                f"I {year} er {len(areas)} af {len(names)} områder på en liste efter de "
                f"gældende regler ({ruleset}): {', '.join(areas)}."
            )
        ever = sorted(set(official[official["status"] != "none"]["area_id"]))
        if ever:
            which = (
                f"{len(ever)} af {len(names)} områder"
                if compact
                else ", ".join(names.get(a, a) for a in ever)
            )
            points.append(
                f"På en liste i mindst ét år siden {int(official['year'].min())}: {which}."
                + (f" {vision}" if vision else "")
            )
    next_list = _outlook_point(marts, compact)
    if next_list:
        points.append(next_list)
    disagreements = marts.disagreements()
    if len(disagreements):
        points.append(
            f"Beregningen afviger fra den officielle liste for {len(disagreements)} "
            f"{'område og år' if len(disagreements) == 1 else 'områder og år'} (se nedenfor)."
        )
    safety = marts.safety[marts.safety["area_id"].isin(names)]
    index_year, _ = _latest(safety, "tryghedsindeks")
    if index_year is not None:
        surveyed = safety[(safety["year"] == index_year) & safety["tryghedsindeks"].notna()]
        first = surveyed.iloc[0]
        if compact:
            index = surveyed["tryghedsindeks"]
            areas = (
                f"median for {len(surveyed)} områder {fmt.number(index.median(), 1)} "
                f"(fra {fmt.number(index.min(), 1)} til {fmt.number(index.max(), 1)})"
            )
        else:
            areas = ", ".join(
                f"{names[r.area_id]} {fmt.number(r.tryghedsindeks, 1)}" for r in rows(surveyed)
            )
        points.append(
            f"Tryghedsindeks {index_year}: {areas} (hele landet "
            f"{fmt.number(first['national_index'], 1)}, alle udsatte områder "
            f"{fmt.number(first['udsatte_average_index'], 1)})."
        )
    totals = marts.split[marts.split["area_id"] == ALL_AREAS]
    split_year, share = _latest(totals, "share_drift")
    if split_year is not None:
        row = totals[totals["year"] == split_year].iloc[0]
        verdict = "inden for" if true(row["within_tolerance"]) else "uden for"
        points.append(
            f"80/20: I {split_year} gik {fmt.percent(share)} af budgettet til drift (varige "
            f"indsatser); målet er {fmt.percent(row['target_share_drift'], 0)}, og afvigelsen "
            f"på {fmt.number(row['deviation_pp'], 1)} procentpoint er {verdict} tolerancen på "
            f"±{fmt.number(row['tolerance_pp'], 1 if row['tolerance_pp'] % 1 else 0)} procentpoint."
        )
    if len(detail) < len(names):
        points.append(
            f"Rapporten har en side for {len(detail)} af de {len(names)} områder "
            f"({rule or 'de valgte områder'}); tabellen nedenfor har dem alle."
        )
    return points


# --- The next list, if nothing changes ---------------------------------------------------------


@dataclass
class Outlook:
    """An area's status now and on the next list if nothing changes (area_outlook), in words."""

    area_id: str
    name: str
    linked: bool
    latest_year: int
    outlook_year: int
    now: Status
    next: Status
    listed: bool
    escalates: bool
    escalation: str  # why it escalates, when it does
    persons: str
    route: str  # the criteria of the cheapest route, with their persons


def _escalation(marts: Marts, row) -> str:
    """The step up, in words: to a category that is its base N years in a row, say which year."""
    entry = marts.rulesets.entry(row.ruleset, row.status_outlook)
    now = marts.rulesets.label(row.ruleset, row.status_latest).lower()
    text = f"fra {now} i {int(row.latest_year)}"
    if entry and entry.base and entry.consecutive_years:
        run = entry.consecutive_years + int(row.consecutive_years_outlook) - 1
        base = marts.rulesets.label(row.ruleset, entry.base).lower()
        text += f"; {int(row.outlook_year)} bliver {run}. år i træk som {base}"
    return text


def _route(marts: Marts, row) -> str:
    return " + ".join(
        f"{criterion_label(c).lower()} ({fmt.persons(c.persons_to_exit)})"
        for c in route_criteria(marts, row)
    )


def _outlook(marts: Marts, area_id: str, linked: bool = False) -> Outlook | None:
    row = outlook_row(marts, area_id)
    if row is None:
        return None
    listed = row.status_outlook != NOT_LISTED
    if not listed:
        persons = fmt.MISSING
    elif fmt.missing(row.persons_to_avoid):
        persons = "ikke muligt inden for ét år"
    else:
        persons = fmt.persons(row.persons_to_avoid)
    return Outlook(
        area_id,
        marts.area_names.get(area_id, row.area_name),
        linked,
        int(row.latest_year),
        int(row.outlook_year),
        _status(marts, row.ruleset, row.status_latest),
        _status(marts, row.ruleset, row.status_outlook, row.status_outlook_label_da),
        listed,
        true(row.escalates),
        _escalation(marts, row) if true(row.escalates) else "",
        persons,
        _route(marts, row),
    )


def _years_text(years: Sequence[int]) -> str:
    years = sorted(set(years))
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _projection_note(marts: Marts, outlook_rows: Sequence) -> str:
    """What the outlook assumes and which data it rests on, in plain Danish."""
    latest = sorted({int(r.latest_year) for r in outlook_rows})
    outlook = sorted({int(r.outlook_year) for r in outlook_rows})
    carried = carried_benchmark_years(marts, outlook_rows)
    if len(latest) == 1:
        kept = f"beholder i {outlook[0]} tallene fra seneste dataår ({latest[0]})"
        year = str(outlook[0])
    else:
        kept = f"beholder året efter sit seneste dataår ({_years_text(latest)}) tallene fra det år"
        year = "næste listes år"
    benchmarks = (
        f"Sammenligningstal (landsgennemsnit og regionens indkomst), der endnu ikke er leveret "
        f"for {year}, er taget fra {_years_text(carried)}."
        if carried
        else f"Sammenligningstallene (landsgennemsnit og regionens indkomst) for {year} er leveret."
    )
    return (
        "Fremskrivningen er ikke en prognose: den viser listen, hvis intet ændrer sig. Hvert "
        f"område {kept}: antal beboere og tæller og nævner i hvert kriterium. {benchmarks} "
        "Gennemsnit over flere år og krav om flere år i træk regnes med de leverede år før."
    )


def _outlook_rows(marts: Marts) -> list:
    return [row for a in marts.area_names if (row := outlook_row(marts, a)) is not None]


def _outlook_point(marts: Marts, compact: bool) -> str:
    """The key point: who is on the next list if nothing changes, and who escalates."""
    outlook_rows = _outlook_rows(marts)
    if not outlook_rows:
        return ""
    year = max(int(r.outlook_year) for r in outlook_rows)
    names = marts.area_names
    listed = [r for r in outlook_rows if r.status_outlook != NOT_LISTED]
    escalating = [r for r in outlook_rows if true(r.escalates)]
    if not listed:
        text = f"Næste liste (1. december {year}), hvis intet ændrer sig: intet område på listen."
    elif compact:
        text = (
            f"Næste liste (1. december {year}), hvis intet ændrer sig: {len(listed)} af "
            f"{len(names)} områder på en liste."
        )
    else:
        areas = ", ".join(f"{names[r.area_id]} ({r.status_outlook_label_da})" for r in listed)
        text = f"Næste liste (1. december {year}), hvis intet ændrer sig: {areas}."
    if escalating:
        steps = ", ".join(
            f"{names[r.area_id]} ({marts.rulesets.label(r.ruleset, r.status_latest).lower()} → "
            f"{r.status_outlook_label_da.lower()})"
            for r in escalating[:10]
        )
        more = f" og {len(escalating) - 10} flere" if len(escalating) > 10 else ""
        text += f" Skærpes: {steps}{more} (se Næste liste)."
    return text


def _next_list(marts: Marts, detail: Sequence[str], compact: bool) -> dict | None:
    """The first page's section on the next list: every area (compact: those on a list now or
    then), escalations first."""
    outlook_rows = _outlook_rows(marts)
    if not outlook_rows:
        return None
    detailed = set(detail)
    entries = [_outlook(marts, r.area_id, r.area_id in detailed) for r in outlook_rows]
    shown = [e for e in entries if not compact or e.listed or e.now.level > 0]
    shown.sort(key=lambda e: (not e.escalates, -e.next.level, -e.now.level, e.name))
    return {
        "year": max(int(r.outlook_year) for r in outlook_rows),
        "rows": shown,
        "escalations": [e for e in shown if e.escalates],
        "hidden": len(entries) - len(shown),
        "note": _projection_note(marts, outlook_rows),
    }


def _area_outlook(marts: Marts, area_id: str) -> dict | None:
    """An area page's next list: the status now and then, the cheapest route, O's criteria."""
    row = outlook_row(marts, area_id)
    if row is None:
        return None
    criteria = _criteria_table(marts, outlook_criteria(marts, row))
    return {
        "outlook": _outlook(marts, area_id),
        "ruleset": marts.rulesets.ruleset_label(row.ruleset).lower(),
        "criteria": criteria,
        "note": _projection_note(marts, [row]),
    }


@dataclass
class AreaRow:
    """One row of the first page's table."""

    area_id: str
    name: str
    linked: bool
    residents: str
    status: Status | None
    year: int | None
    exit: str
    index: str
    cost: str
    share: str


def _area_rows(marts: Marts, detail: Sequence[str]) -> list[AreaRow]:
    latest_index = _latest_by_area(marts.safety, "tryghedsindeks")
    latest_cost = _latest_by_area(
        marts.safety[marts.safety["vandalism_cost_dkk"].fillna(0) > 0],
        "vandalism_cost_per_dwelling_dkk",
    )
    latest_share = _latest_by_area(marts.split, "share_drift")
    detailed = set(detail)
    table = []
    for area_id, name in marts.area_names.items():
        year = marts.latest_year(area_id)
        status, exit_text = None, fmt.MISSING
        if year is not None:
            row = marts.latest_status(area_id)
            status = _status(marts, row.ruleset, row.status, row.status_label_da)
            routes = exit_routes(marts, area_id, year)
            if routes:
                reachable = [r.persons for r in routes if r.persons is not None]
                exit_text = (
                    ("mindst " if len(routes) > 1 else "") + fmt.persons(max(reachable))
                    if len(reachable) == len(routes)
                    else "ikke inden for ét år"
                )
            else:
                exit_text = "ikke på listen"
        index_year, index = latest_index.get(area_id, (None, None))
        cost_year, cost = latest_cost.get(area_id, (None, None))
        share_year, share = latest_share.get(area_id, (None, None))
        table.append(
            AreaRow(
                area_id,
                name,
                area_id in detailed,
                fmt.number(marts.residents(area_id, year) if year is not None else None),
                status,
                year,
                exit_text,
                f"{fmt.number(index, 1)} ({index_year})" if index_year else fmt.MISSING,
                f"{fmt.kroner(cost)} ({cost_year})" if cost_year else fmt.MISSING,
                f"{fmt.percent(share, 0)} ({share_year})" if share_year else fmt.MISSING,
            )
        )
    return table


@dataclass
class Reconciled:
    """A row of area_list_reconciliation, in words."""

    area_id: str
    name: str
    year: int
    ruleset: str
    computed: Status | None
    official: Status
    agrees: bool | None
    complete: bool | None


def _reconciled(marts: Marts, frame: pd.DataFrame) -> list[Reconciled]:
    out = []
    for r in rows(frame):
        computed = None if fmt.missing(r.computed_status) else r.computed_status
        out.append(
            Reconciled(
                r.area_id,
                marts.area_names.get(r.area_id, r.area_name),
                int(r.year),
                marts.rulesets.ruleset_label(r.ruleset),
                None if computed is None else _status(marts, r.ruleset, computed),
                _status(marts, r.ruleset, r.official_status),
                None if fmt.missing(r.agrees) else bool(r.agrees),
                None if fmt.missing(r.computed_complete) else bool(r.computed_complete),
            )
        )
    return out


def _projected(marts: Marts, areas: Sequence[str]) -> list[charts.Projected]:
    """The status grid's cells for the outlook years, under the newest rules in force then."""
    cells = []
    for area_id in areas:
        row = outlook_row(marts, area_id)
        if row is not None:
            cells.append(
                charts.Projected(
                    area_id,
                    int(row.outlook_year),
                    row.ruleset,
                    row.status_outlook,
                    row.status_outlook_label_da,
                )
            )
    return cells


def _overview(
    marts: Marts, chart: Charts, detail: Sequence[str], compact: bool, rule: str, vision: str
) -> dict:
    official = marts.official(marts.list_status)
    legend = (
        f"{marts.rulesets.legend()}. Dataåret er statistikkens år; listen offentliggøres "
        f"1. december. Prikket ramme: næste liste, hvis intet ændrer sig (en fremskrivning; "
        f"et år med {charts.PROJECTED} har kun fremskrivninger)."
    )
    figures = []
    if compact:
        figures.append(
            chart(
                "Antal områder på listen efter de gældende regler",
                charts.status_count_figure(marts, official),
                note="Dataåret er statistikkens år; listen offentliggøres 1. december.",
            )
        )
        shown = {a: marts.area_names[a] for a in detail}
        if shown:
            chosen = official[official["area_id"].isin(shown)]
            figures.append(
                chart(
                    "Listestatus efter de gældende regler: områderne med egen side",
                    charts.status_heatmap(
                        rows(chosen), "area_id", shown, marts.rulesets, _projected(marts, shown)
                    ),
                    note=legend,
                )
            )
        figures.append(
            chart(
                "Tryghedsindeks: områderne mod hele landet og alle udsatte områder",
                charts.safety_spread_figure(marts.safety, marts.area_names),
                note="Medianen og spændet fra de 10 % laveste til de 10 % højeste af områderne "
                "med en måling i året. Højere er tryggere.",
                empty="Ingen tryghedsmålinger.",
            )
        )
    else:
        figures.append(
            chart(
                "Listestatus efter de gældende regler",
                charts.status_heatmap(
                    rows(official),
                    "area_id",
                    marts.area_names,
                    marts.rulesets,
                    _projected(marts, list(marts.area_names)),
                ),
                note=legend,
            )
        )
        figures.append(
            chart(
                "Tryghedsindeks: områderne mod hele landet og alle udsatte områder",
                charts.safety_index_figure(rows(marts.safety), marts.area_names),
                empty="Ingen tryghedsmålinger.",
            )
        )
    totals = marts.split[marts.split["area_id"] == ALL_AREAS]
    figures.append(
        chart(
            "80/20: drift og projekt for alle områder samlet",
            charts.split_figure(rows(totals)),
            note="Målet er, at 80 % af indsatsen styrker varig (primært kommunal) drift og 20 % "
            "er midlertidige projekter. Rød kant: uden for tolerancen på ±5 procentpoint.",
            empty="Ingen indsatsdata.",
        )
    )
    allocation = marts.allocation
    with_need = allocation.dropna(subset=["recommended_budget_dkk"])
    if not with_need.empty:
        need_year = int(with_need["year"].max())
        year_rows = allocation[allocation["year"] == need_year]
        year_rows = year_rows.assign(
            name=year_rows["area_id"].map(lambda a: marts.area_names.get(a, a))
        ).sort_values("name")
        note = (
            "Anbefalet = områdets andel af det samlede behov (beboere × gennemsnitligt "
            "kriterietryk) × det samlede budget."
        )
        title = f"Fordeling af budgettet {need_year}: faktisk og anbefalet efter behov"
        if compact:
            figures.append(
                chart(
                    title,
                    charts.allocation_scatter(year_rows),
                    note=note + " Ét punkt pr. område; under den stiplede linje får området "
                    "mindre end anbefalet.",
                )
            )
        else:
            figures.append(
                chart(
                    title,
                    charts.allocation_figure(rows(year_rows), year_rows["name"], x_is_year=False),
                    note=note,
                )
            )
    return {
        "points": _key_points(marts, compact, detail, rule, vision),
        "next_list": _next_list(marts, detail, compact),
        "official_list": marts.reconciliation is not None,
        "disagreements": _reconciled(marts, marts.disagreements()),
        "table": _area_rows(marts, detail),
        "charts": figures,
    }


@dataclass
class CriterionRow:
    category: str
    criterion: str
    value: str
    threshold: str
    met: str
    margin: str
    persons: str


def _criteria_rows(marts: Marts, area_id: str, year: int) -> list[CriterionRow]:
    return _criteria_table(marts, marts.records("criteria", area_id, year, official=True))


def _criteria_table(marts: Marts, records: Sequence) -> list[CriterionRow]:
    """area_criteria (or area_outlook_criteria) rows as table rows, most severe category first."""
    records = sorted(
        records,
        key=lambda r: (
            -marts.rulesets.level(r.ruleset, r.category),
            r.category,
            r.role,
            r.criterion,
        ),
    )
    table = []
    for r in records:
        money = r.metric in charts.MONEY_METRICS
        margin = fmt.kroner(r.margin) if money else fmt.points(r.margin)
        table.append(
            CriterionRow(
                marts.rulesets.label(r.ruleset, r.category)
                + (" (krav)" if r.role == "gate" else ""),
                criterion_label(r),
                charts.metric_value(r.metric, r.value),
                f"{charts.OPERATORS.get(r.operator, r.operator)} "
                f"{charts.metric_value(r.metric, r.threshold)}",
                "ja" if true(r.met) else (fmt.MISSING if fmt.missing(r.met) else "nej"),
                margin,
                exit_persons(r) if true(r.met) else fmt.MISSING,
            )
        )
    return table


def _area(marts: Marts, chart: Charts, area_id: str) -> dict:
    name = marts.area_names[area_id]
    year = marts.latest_year(area_id)
    lead = None
    if year is not None:
        row = marts.latest_status(area_id)
        lead = {
            "year": year,
            "ruleset": marts.rulesets.ruleset_label(row.ruleset).lower(),
            "status": _status(marts, row.ruleset, row.status, row.status_label_da),
            "residents": fmt.number(marts.residents(area_id, year)),
        }
    reconciliation = marts.reconciliation
    official = (
        _reconciled(
            marts,
            reconciliation[reconciliation["area_id"] == area_id].sort_values("year"),
        )
        if reconciliation is not None
        else []
    )
    list_rows = marts.records("list_status", area_id)
    rulesets = sorted({r.ruleset for r in list_rows}, key=marts.rulesets.order)
    safety = marts.records("safety", area_id)
    allocation = sorted(marts.records("allocation", area_id), key=lambda r: r.year)
    before = [
        chart(
            "Kriterierne over årene mod grænserne (de gældende regler hvert år)",
            charts.criteria_figure(marts, area_id),
            note="Røde punkter: kriteriet er opfyldt. Værdien er gennemsnittet over kriteriets "
            "vindue (fx 2 år), som reglerne foreskriver; grænserne skifter, når reglerne gør.",
            empty="Ingen statistik for området.",
        ),
        chart(
            "Listestatus år for år efter hvert regelsæt",
            charts.status_heatmap(
                list_rows,
                "ruleset",
                {r: marts.rulesets.ruleset_label(r) for r in rulesets},
                marts.rulesets,
            ),
            note="Sort ramme: reglerne, der gjaldt i året (den officielle liste). De øvrige felter "
            "viser, hvad de andre regelsæt ville sige om samme år.",
        ),
    ]
    routes, persons, criteria = [], None, []
    if year is not None:
        routes = exit_routes(marts, area_id, year)
        persons = chart(
            f"Personer for at komme under grænsen, opfyldte kriterier {year}",
            charts.persons_to_exit_figure(marts, area_id, year),
            empty="Ingen opfyldte kriterier, der kan opgøres i personer.",
        )
        criteria = _criteria_rows(marts, area_id, year)
    after = [
        chart(
            "Tryghedsindeks mod hele landet og alle udsatte områder",
            charts.safety_index_figure(safety, {area_id: name}),
            note="Højere er tryggere (politiets tryghedsundersøgelse).",
            empty="Området indgår ikke i tryghedsundersøgelsen.",
        ),
        chart(
            "Hærværk: udgift pr. bolig og antal sager",
            charts.vandalism_figure(safety),
            empty="Ingen hærværkssager.",
        ),
        chart("Politianmeldelser og påsatte brande", charts.incidents_figure(safety)),
        chart(
            "80/20: drift og projekt i området",
            charts.split_figure(marts.records("split", area_id)),
            note="Rød kant: uden for tolerancen (80 % ± 5 procentpoint).",
            empty="Ingen indsatsdata.",
        ),
        chart(
            "Faktisk og anbefalet fordeling af budgettet",
            charts.allocation_figure(allocation, [r.year for r in allocation], x_is_year=True),
            note="Anbefalet efter behov findes kun for år med statistik.",
            empty="Ingen indsatsdata.",
        ),
    ]
    in_force = marts.ruleset_in_force.get(year) if year is not None else None
    return {
        "id": area_id,
        "name": name,
        "year": year,
        "lead": lead,
        "official": official,
        "charts_before": before,
        "routes": routes,
        "persons_chart": persons,
        "criteria": criteria,
        "criteria_ruleset": marts.rulesets.ruleset_label(in_force) if in_force else "",
        "outlook": _area_outlook(marts, area_id),
        "charts_after": after,
    }


def render(
    marts: Marts,
    generated_at: datetime,
    areas: Sequence[str] | None = None,
    config: configuration.Config | None = None,
) -> tuple[str, int]:
    """The HTML document and its number of charts. `areas`: the areas with a section of their
    own (default: `detail_areas`, from the environment); `config`: default the one in force."""
    config = config or configuration.load()
    detail = [a for a in (detail_areas(marts) if areas is None else areas) if a in marts.area_names]
    compact = len(marts.area_names) > max_detail_areas()
    chart = Charts()
    # The vision is the municipality's own text ([report] vision); none without it.
    vision = config.report.vision
    overview = _overview(
        marts, chart, detail, compact, selection_rule() if areas is None else "", vision
    )
    sections = [_area(marts, chart, area_id) for area_id in detail]
    years = sorted(marts.ruleset_in_force)
    document = (
        _environment()
        .get_template("report.html.j2")
        .render(
            config=config,
            period=f"Dataår {years[0]}–{years[-1]}" if years else "Ingen dataår",
            areas=len(marts.area_names),
            detail=[(a, marts.area_names[a]) for a in detail],
            compact=compact,
            generated=fmt.date(generated_at),
            overview=overview,
            sections=sections,
            plotly_js=Markup(get_plotlyjs()),
            locale=Markup(json.dumps(fmt.PLOTLY_LOCALE_DA, ensure_ascii=False)),
            plotly_config=Markup(json.dumps(PLOTLY_CONFIG)),
        )
    )
    return document, chart.drawn


def build_report(
    source: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame],
    *,
    generated_at: datetime | None = None,
    areas: Sequence[str] | None = None,
    config: configuration.Config | None = None,
) -> str:
    """The report as one HTML document, from a connection holding schema `marts` or from
    `load_marts`' frames."""
    frames = load_marts(source) if isinstance(source, duckdb.DuckDBPyConnection) else source
    return render(Marts.from_frames(frames), generated_at or datetime.now(), areas, config)[0]
