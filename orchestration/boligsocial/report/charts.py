"""One function per chart, each a plotly figure built with plotly's public API, or None when
there is nothing to draw. Every text that comes from data (area names, category labels)
passes through `formatting.label`: plotly renders HTML tags in labels, legends and hovers."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from boligsocial.report import formatting as fmt
from boligsocial.report.formatting import label, missing
from boligsocial.report.model import (
    INCOME_METRICS,
    METRIC_LABELS,
    Marts,
    Rulesets,
    criterion_label,
    rows,
    true,
)

# Colours of the list levels: 0 (not on the list) and then each severity, mildest first.
LEVEL_COLORS = ("#a8d5a2", "#ffe08a", "#ffb366", "#e8686b", "#8e1b1b", "#4a0d0d")
# Lines and bars of a category: by its level (1 = mildest).
CATEGORY_COLORS = ("#c9a227", "#e07b00", "#c62828", "#6a1b1b", "#3d0a0a")
BLUE, GREY, RED, GREEN, ORANGE = "#1f5fa8", "#8c8c8c", "#c62828", "#2e7d32", "#e07b00"
BLACK = "#222222"
# One line per area: the Okabe-Ito colours (colour-blind safe; black left to the benchmarks),
# and as a second channel a marker symbol per area (6 symbols against 7 colours: no two of
# the first 42 areas alike) and, after the first 7 areas, a dash pattern.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down")
DASHES = ("solid", "dash", "dot", "dashdot")
# A grid cell without a status (an area-year without statistics).
NO_DATA_COLOR, NO_DATA_LABEL = "#e6e6e6", "Ingen statistik"
PROJECTED = "*"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
OPERATORS = {">": "over", ">=": "mindst", "<": "under", "<=": "højst"}
MONEY_METRICS = INCOME_METRICS
GRID = {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"}
# A slim plotly_white: plotly's templates are large, and copied into every figure.
TEMPLATE = go.layout.Template(
    layout={
        "colorway": PALETTE,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": GRID,
        "yaxis": GRID,
    }
)
STYLE = {
    "legend": {"orientation": "h", "y": -0.15, "x": 0},
    "separators": fmt.SEPARATORS,
    "font": {"family": FONT, "size": 13},
    "hoverlabel": {"font": {"family": FONT}},
    "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
}


def level_color(level: int) -> str:
    return LEVEL_COLORS[min(level, len(LEVEL_COLORS) - 1)]


def category_color(level: int) -> str:
    return CATEGORY_COLORS[min(max(level, 1), len(CATEGORY_COLORS)) - 1]


def area_style(index: int) -> dict:
    """Line and marker of the index-th area's line: its colour, symbol and dash."""
    color = PALETTE[index % len(PALETTE)]
    return {
        "line": {"color": color, "width": 2.5, "dash": DASHES[index // len(PALETTE) % len(DASHES)]},
        "marker": {
            "color": color,
            "symbol": SYMBOLS[index % len(SYMBOLS)],
            "size": 8,
            "line": {"color": BLACK, "width": 0.6},
        },
    }


def count_axis(counts: Iterable, ticks: int = 5) -> dict:
    """A y axis for counts on its own scale: whole-number ticks from 0, a 1-2-5 step apart,
    and a range that ends on a tick above the largest count."""
    top = max([0, *(c for c in counts if not missing(c))])
    raw = max(1.0, top / ticks)
    magnitude = 10 ** int(np.floor(np.log10(raw)))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    end = step * max(1, int(np.ceil(top * 1.05 / step)))
    return {
        "tickmode": "linear",
        "tick0": 0,
        "dtick": step,
        "range": [0, end],
        "tickformat": "d",
    }


def _values(values: Iterable) -> list:
    """Plain JSON values: numpy scalars as Python numbers, NaN/NA as null."""
    out = []
    for value in values:
        if missing(value):
            out.append(None)
        elif isinstance(value, np.generic):
            out.append(value.item())
        else:
            out.append(value)
    return out


def _merge(target: dict, update: Mapping) -> dict:
    """Nested update, as plotly's update_layout does (dicts merge, other values replace)."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def _layout(height: int = 380, base: Mapping | None = None, **extra) -> dict:
    """A layout in the report's style: Danish separators, legend below, axes that make room
    for their labels. base: a subplot grid (`_grid`)."""
    layout = copy.deepcopy(dict(base)) if base else {}
    _merge(layout, copy.deepcopy(STYLE) | {"template": TEMPLATE, "height": height})
    for key in [k for k in layout if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]:
        _merge(layout.setdefault(key, {}), {"automargin": True})
    return _merge(layout, extra)


def _axes(layout: dict, letter: str, **properties) -> None:
    """Set properties on every x (or y) axis of the layout."""
    for key in [k for k in layout if k.startswith(f"{letter}axis")]:
        _merge(layout[key], properties)


def _years(years: Sequence[int]) -> dict:
    return {"tickmode": "array", "tickvals": list(years), "ticktext": [str(y) for y in years]}


@lru_cache(maxsize=16)
def _grid(rows: int, cols: int, titles: tuple[str, ...] = (), secondary_y: bool = False) -> dict:
    """The layout of make_subplots for a grid (axes numbered row by row from the top, as
    plotly does: x, x2, ...), without plotly's default template. Cached: make_subplots costs
    about 0.1 s, and a national report draws a grid per area."""
    if secondary_y:
        figure = make_subplots(specs=[[{"secondary_y": True}]])
    else:
        figure = make_subplots(
            rows=rows,
            cols=cols,
            subplot_titles=titles,
            vertical_spacing=0.38 / rows,
            horizontal_spacing=0.1,
        )
    layout = figure.layout.to_plotly_json()
    layout.pop("template", None)
    return layout


def _axis(letter: str, index: int) -> str:
    """plotly's name of subplot index's axis (1: "x", 2: "x2", ...)."""
    return letter if index == 1 else f"{letter}{index}"


def _sorted_by_year(records: Iterable) -> list:
    return sorted(records, key=lambda r: r.year)


def _first_per_year(records: Iterable) -> list:
    """The first row of each year (as drop_duplicates("year"))."""
    seen: set[int] = set()
    first = []
    for row in records:
        if row.year not in seen:
            seen.add(row.year)
            first.append(row)
    return first


@dataclass(frozen=True)
class Projected:
    """A cell of the status grid in an outlook year: the status if nothing changes."""

    area_id: str
    year: int
    ruleset: str
    status: str
    status_label_da: str
    in_force: bool = True


def status_heatmap(
    records: Sequence,
    row_key: str,
    row_labels: Mapping[str, str],
    rulesets: Rulesets,
    projected: Sequence[Projected] = (),
) -> go.Figure | None:
    """List status per (row, year): the rulesets of one area, or the areas under the rules in
    force. records: area_list_status rows (named tuples); row_labels: key -> plain text;
    projected: outlook cells (a year with only those is marked with PROJECTED). A cell
    without a status shows in the legend as NO_DATA_LABEL."""
    if not records:
        return None
    cells = {(getattr(r, row_key), r.year): r for r in records}
    outlook = {(getattr(r, row_key), r.year): r for r in projected}
    years = sorted({r.year for r in records} | {r.year for r in projected})
    present = {k for k, _ in cells} | {k for k, _ in outlook}
    keys = [k for k in row_labels if k in present]
    history_years = {r.year for r in records}
    columns = [f"{y}{PROJECTED}" if y not in history_years else str(y) for y in years]
    z, text, hover = [], [], []
    for key in keys:
        z_row, text_row, hover_row = [], [], []
        for year in years:
            row = cells.get((key, year)) or outlook.get((key, year))
            if row is None:
                z_row.append(-1)
                text_row.append("")
                hover_row.append(f"{label(row_labels[key])}, {year}: {NO_DATA_LABEL.lower()}")
                continue
            z_row.append(rulesets.level(row.ruleset, row.status))
            text_row.append(label(rulesets.abbreviation(row.status)))
            if isinstance(row, Projected):
                force = "fremskrivning: hvis intet ændrer sig"
            elif true(row.in_force):
                force = "gældende regler"
            else:
                force = "beregnet med reglerne for sammenligning"
            hover_row.append(
                f"{label(row_labels[key])}, {year}<br><b>{label(row.status_label_da)}</b><br>"
                f"{label(rulesets.ruleset_label(row.ruleset))} ({force})"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    blank = any(v == -1 for z_row in z for v in z_row)
    levels = ([-1] if blank else []) + list(range(rulesets.levels))
    names = ([NO_DATA_LABEL] if blank else []) + rulesets.level_names()
    colorscale = []
    for i, level in enumerate(levels):
        color = NO_DATA_COLOR if level == -1 else level_color(level)
        colorscale += [[i / len(levels), color], [(i + 1) / len(levels), color]]

    def frame(i: int, j: int, dash: str) -> dict:
        return {
            "type": "rect",
            "x0": j - 0.5,
            "x1": j + 0.5,
            "y0": i - 0.5,
            "y1": i + 0.5,
            "line": {"color": "#222", "width": 2, "dash": dash},
        }

    # Frame the cells evaluated with the rules in force in their year (the official list), and
    # (dashed) the projected ones.
    frames = [
        frame(i, j, "solid")
        for i, key in enumerate(keys)
        for j, year in enumerate(years)
        if row_key == "ruleset" and (key, year) in cells and true(cells[key, year].in_force)
    ] + [
        frame(i, j, "dot")
        for i, key in enumerate(keys)
        for j, year in enumerate(years)
        if (key, year) in outlook and (key, year) not in cells
    ]
    heatmap = go.Heatmap(
        z=z,
        x=columns,
        y=[label(row_labels[k]) for k in keys],
        text=text,
        texttemplate="%{text}",
        customdata=hover,
        hovertemplate="%{customdata}<extra></extra>",
        zmin=levels[0] - 0.5,
        zmax=levels[-1] + 0.5,
        colorscale=colorscale,
        xgap=2,
        ygap=2,
        colorbar={
            "tickvals": levels,
            "ticktext": [label(name) for name in names],
            "thickness": 14,
            "len": 1.0,
        },
    )
    layout = _layout(
        height=110 + 42 * len(keys),
        margin={"l": 110, "r": 20, "t": 20, "b": 40},
        shapes=frames,
        xaxis={"type": "category"},
        yaxis={"autorange": "reversed"},
    )
    return go.Figure(data=[heatmap], layout=layout)


def status_count_figure(marts: Marts, official: pd.DataFrame) -> go.Figure | None:
    """Number of areas per list level and year under the rules in force (national scale)."""
    if official.empty:
        return None
    levels = [marts.level(r) for r in rows(official[["ruleset", "status"]])]
    counts = pd.crosstab(official["year"].astype(int).to_numpy(), np.array(levels))
    years = [int(y) for y in counts.index]
    names = marts.rulesets.level_names()
    traces = [
        go.Bar(
            x=years,
            y=_values(counts[level]),
            name=label(names[level]),
            marker={"color": level_color(level)},
            hovertemplate="%{x}: %{y} områder",
        )
        for level in range(marts.rulesets.levels)
        if level in counts.columns
    ]
    layout = _layout(
        barmode="stack",
        xaxis=_years(years),
        yaxis={"title": {"text": "antal områder"}, "tickformat": ",.0f"},
    )
    return go.Figure(data=traces, layout=layout)


def criteria_figure(marts: Marts, area_id: str) -> go.Figure | None:
    """Each criterion of the rules in force, year by year, against its threshold(s): a grid
    of subplots, two per row."""
    records = marts.records("criteria", area_id, official=True)
    if not records:
        return None
    criteria = sorted({r.criterion for r in records}, key=lambda c: _criterion_order(records, c))
    columns = 2
    n_rows = (len(criteria) + columns - 1) // columns
    titles = tuple(label(_criterion_text(records, c)) for c in criteria)
    layout = _layout(
        height=300 * n_rows + 60,
        base=_grid(n_rows, columns, titles),
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.4 / n_rows, "x": 0},
    )
    for annotation in layout.get("annotations", []):
        _merge(annotation, {"font": {"size": 13}})
    years = sorted({int(r.year) for r in records})
    _axes(layout, "x", **_years(years[:: max(1, len(years) // 8)]))
    traces = []
    shown: set[str] = set()
    for index, criterion in enumerate(criteria, start=1):
        axes = {"xaxis": _axis("x", index), "yaxis": _axis("y", index)}
        chosen = _sorted_by_year(r for r in records if r.criterion == criterion)
        metric = chosen[0].metric
        money = metric in MONEY_METRICS
        # Categories share the value of a criterion (same window): one line of values.
        values = _first_per_year(r for r in chosen if not missing(r.value))
        traces.append(
            go.Scatter(
                x=[int(r.year) for r in values],
                y=_values(r.value for r in values),
                mode="lines+markers",
                name="Områdets værdi",
                legendgroup="value",
                showlegend="value" not in shown,
                line={"color": BLUE, "width": 2.5},
                marker={
                    "color": [RED if true(r.met) else BLUE for r in values],
                    "size": 9,
                    "line": {"color": "white", "width": 1},
                },
                hovertemplate=(
                    "%{x}: %{y:,.0f} kr.<extra>Værdi</extra>"
                    if money
                    else "%{x}: %{y:.2%}<extra>Værdi</extra>"
                ),
                **axes,
            )
        )
        shown.add("value")
        by_category: dict[str, list] = {}
        for r in chosen:
            by_category.setdefault(r.category, []).append(r)
        for category, threshold_rows in by_category.items():
            points = _first_per_year(threshold_rows)
            ruleset = points[-1].ruleset
            name = f"Grænse: {marts.rulesets.label(ruleset, category)}"
            traces.append(
                go.Scatter(
                    x=[int(r.year) for r in points],
                    y=_values(r.threshold for r in points),
                    mode="lines",
                    line={
                        "color": category_color(marts.rulesets.level(ruleset, category)),
                        "dash": "dash",
                        "shape": "hvh",
                        "width": 1.8,
                    },
                    name=label(name),
                    legendgroup=name,
                    showlegend=name not in shown,
                    customdata=[
                        f"{OPERATORS.get(r.operator, r.operator)} "
                        f"{metric_value(metric, r.threshold)}"
                        for r in points
                    ],
                    hovertemplate="%{x}: %{customdata}",
                    **axes,
                )
            )
            shown.add(name)
        _merge(
            layout[f"yaxis{index if index > 1 else ''}"],
            {"tickformat": ",.0f" if money else ".0%", "rangemode": "tozero"},
        )
    return go.Figure(data=traces, layout=layout)


def _criterion_order(records: Sequence, criterion: str) -> tuple[int, str]:
    """Criteria in the order of the metrics' labels (the contract's order), then by name."""
    metric = next(r.metric for r in records if r.criterion == criterion)
    order = list(METRIC_LABELS)
    return (order.index(metric) if metric in order else len(order), criterion)


def _criterion_text(records: Sequence, criterion: str) -> str:
    return criterion_label(next(r for r in records if r.criterion == criterion))


def metric_value(metric: str, value: float | None) -> str:
    return fmt.kroner(value) if metric in MONEY_METRICS else fmt.percent(value)


def persons_to_exit_figure(marts: Marts, area_id: str, year: int) -> go.Figure | None:
    """Persons who would have to leave each met criterion's group for it not to be met."""
    met = [
        r
        for r in marts.records("criteria", area_id, year, official=True)
        if true(r.met) and not missing(r.persons_to_exit)
    ]
    if not met:
        return None
    met = sorted(met, key=lambda r: -r.persons_to_exit)
    persons = [r.persons_to_exit for r in met]
    bars = go.Bar(
        x=_values(persons),
        y=[
            label(f"{marts.rulesets.label(r.ruleset, r.category)}: {criterion_label(r)}")
            for r in met
        ],
        orientation="h",
        marker={
            "color": [category_color(marts.rulesets.level(r.ruleset, r.category)) for r in met]
        },
        text=[fmt.persons(p) for p in persons],
        textposition="auto",
        hovertemplate="%{y}<br>%{x:,.0f} personer<extra></extra>",
    )
    layout = _layout(
        height=90 + 44 * len(met),
        margin={"l": 20, "r": 20, "t": 20, "b": 40},
        xaxis={
            "title": {"text": "personer der skal ud af kriteriets gruppe"},
            "rangemode": "tozero",
        },
    )
    return go.Figure(data=[bars], layout=layout)


BENCHMARKS = (
    ("national_index", "Hele landet", BLACK, "dash"),
    ("udsatte_average_index", "Alle udsatte områder", GREY, "dot"),
)


def _benchmark_traces(safety: Sequence) -> list[go.Scatter]:
    """safety: area_safety rows (named tuples) by year."""
    benchmarks = _first_per_year(safety)
    traces = []
    for column, name, color, dash in BENCHMARKS:
        points = [r for r in benchmarks if not missing(getattr(r, column))]
        if points:
            traces.append(
                go.Scatter(
                    x=[r.year for r in points],
                    y=_values(getattr(r, column) for r in points),
                    name=name,
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2},
                    hovertemplate="%{x}: %{y:.1f}",
                )
            )
    return traces


def safety_index_figure(safety: Sequence, area_names: Mapping[str, str]) -> go.Figure | None:
    """Tryghedsindeks per area against Denmark and all udsatte areas; safety: area_safety rows
    (named tuples)."""
    selected = _sorted_by_year(r for r in safety if r.area_id in area_names)
    columns = ("tryghedsindeks", "national_index", "udsatte_average_index")
    if all(missing(getattr(r, c)) for r in selected for c in columns):
        return None
    by_area: dict[str, list] = {}
    for r in selected:
        if not missing(r.tryghedsindeks):
            by_area.setdefault(r.area_id, []).append(r)
    traces = [
        go.Scatter(
            x=[r.year for r in by_area[area_id]],
            y=_values(r.tryghedsindeks for r in by_area[area_id]),
            name=label(name),
            mode="lines+markers",
            hovertemplate="%{x}: %{y:.1f}",
            **area_style(index),
        )
        # Styles follow the lines drawn: the first seven get seven colours.
        for index, (area_id, name) in enumerate(
            (a, n) for a, n in area_names.items() if a in by_area
        )
    ]
    layout = _layout(
        xaxis=_years(sorted({r.year for r in selected})),
        yaxis={"title": {"text": "tryghedsindeks"}},
    )
    return go.Figure(data=traces + _benchmark_traces(selected), layout=layout)


def safety_spread_figure(safety: pd.DataFrame, area_names: Mapping[str, str]) -> go.Figure | None:
    """Tryghedsindeks of many areas: their median and 10–90 % range against the benchmarks."""
    selected = safety[safety["area_id"].isin(area_names)].sort_values("year")
    columns = ["tryghedsindeks", "national_index", "udsatte_average_index"]
    if selected[columns].notna().sum().sum() == 0:
        return None
    measured = selected[selected["tryghedsindeks"].notna()].groupby("year")["tryghedsindeks"]
    low, median, high = measured.quantile(0.1), measured.median(), measured.quantile(0.9)
    years = [int(y) for y in median.index]
    band = "Områderne: 10–90 %"
    traces = []
    if years:
        traces = [
            go.Scatter(
                x=years,
                y=_values(low),
                mode="lines",
                line={"width": 0},
                legendgroup=band,
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=years,
                y=_values(high),
                mode="lines",
                fill="tonexty",
                fillcolor="rgba(31, 95, 168, 0.15)",
                line={"width": 0},
                name=band,
                legendgroup=band,
                customdata=[
                    f"{fmt.number(lo, 1)}–{fmt.number(hi, 1)}"
                    for lo, hi in zip(low, high, strict=True)
                ],
                hovertemplate="%{x}: %{customdata}",
            ),
            go.Scatter(
                x=years,
                y=_values(median),
                mode="lines+markers",
                name="Områderne: median",
                line={"color": BLUE, "width": 2.5},
                customdata=_values(measured.count()),
                hovertemplate="%{x}: %{y:.1f} (%{customdata} områder)<extra>Median</extra>",
            ),
        ]
    layout = _layout(
        xaxis=_years(sorted(int(y) for y in selected["year"].unique())),
        yaxis={"title": {"text": "tryghedsindeks"}},
    )
    return go.Figure(data=traces + _benchmark_traces(rows(selected)), layout=layout)


def _sum(values: Iterable) -> float:
    """Σ values with NULL as 0: credit lines can make a year's vandalism cost negative, so 0
    is not "no values"."""
    return float(np.sum([0.0 if missing(v) else v for v in values]))


def vandalism_figure(safety: Sequence) -> go.Figure | None:
    """Vandalism cost per dwelling (bars) and cases (line, on a secondary y axis) of one area."""
    by_year = _sorted_by_year(safety)
    if _sum(r.vandalism_cost_dkk for r in by_year) == 0:
        return None
    years = [r.year for r in by_year]
    cost = go.Bar(
        x=years,
        y=_values(r.vandalism_cost_per_dwelling_dkk for r in by_year),
        name="Udgift pr. bolig",
        marker={"color": ORANGE},
        customdata=[[fmt.kroner(r.vandalism_cost_dkk), fmt.number(r.dwellings)] for r in by_year],
        hovertemplate=(
            "%{x}: %{y:,.0f} kr. pr. bolig<br>i alt %{customdata[0]}, "
            "%{customdata[1]} boliger<extra></extra>"
        ),
        xaxis="x",
        yaxis="y",
    )
    cases = go.Scatter(
        x=years,
        y=_values(r.vandalism_cases for r in by_year),
        name="Sager",
        mode="lines+markers",
        line={"color": GREY},
        hovertemplate="%{x}: %{y} sager<extra></extra>",
        xaxis="x",
        yaxis="y2",
    )
    layout = _layout(
        base=_grid(1, 1, secondary_y=True),
        xaxis=_years(years),
        yaxis={"title": {"text": "kr. pr. bolig"}, "tickformat": ",.0f"},
        yaxis2={
            "title": {"text": "sager"},
            "showgrid": False,
            **count_axis(r.vandalism_cases for r in by_year),
        },
    )
    return go.Figure(data=[cost, cases], layout=layout)


def incidents_figure(safety: Sequence) -> go.Figure | None:
    """Police incidents and arson of one area per year."""
    by_year = _sorted_by_year(safety)
    if _sum(v for r in by_year for v in (r.police_incidents, r.arson_incidents)) == 0:
        return None
    years = [r.year for r in by_year]
    traces = [
        go.Bar(
            x=years,
            y=_values(getattr(r, column) for r in by_year),
            name=name,
            marker={"color": color},
            hovertemplate="%{x}: %{y}",
        )
        for column, name, color in (
            ("police_incidents", "Anmeldelser i alt", BLUE),
            ("arson_incidents", "Heraf påsatte brande", RED),
        )
    ]
    return go.Figure(data=traces, layout=_layout(height=320, barmode="group", xaxis=_years(years)))


def _target_label(by_year: Sequence) -> str:
    """The legend of the target: the policy, or that it changed over the years."""
    policies = {(r.target_share_drift, r.tolerance_pp) for r in by_year}
    if len(policies) > 1:
        return "Mål for drift (±tolerance), som det var i hvert år"
    [(target, tolerance)] = policies
    tolerance_text = fmt.number(tolerance, 1 if tolerance % 1 else 0)
    return f"Mål: {fmt.percent(target, 0)} drift (±{tolerance_text} procentpoint)"


def split_figure(split: Sequence) -> go.Figure | None:
    """The 80/20 split of drift and projekt per year; split: allocation_8020 rows (named
    tuples) of one area (or of all areas together)."""
    by_year = _sorted_by_year(r for r in split if not missing(r.share_drift))
    if not by_year:
        return None
    years = [r.year for r in by_year]
    shares = [r.share_drift for r in by_year]
    traces = [
        go.Bar(
            x=years,
            y=_values(shares),
            name="Drift (varige indsatser)",
            marker={
                "color": BLUE,
                "line": {
                    "color": [BLUE if true(r.within_tolerance) else RED for r in by_year],
                    "width": 3,
                },
            },
            text=[fmt.percent(s, 0) for s in shares],
            textposition="inside",
            customdata=[
                [fmt.kroner(r.budget_drift_dkk), fmt.number(r.deviation_pp, 1)] for r in by_year
            ],
            hovertemplate=(
                "%{x}: drift %{y:.1%} (%{customdata[0]})<br>"
                "afvigelse fra målet %{customdata[1]} procentpoint<extra></extra>"
            ),
        ),
        go.Bar(
            x=years,
            y=_values(1 - s for s in shares),
            name="Projekt (midlertidige indsatser)",
            marker={"color": "#9ecae1"},
            customdata=[fmt.kroner(r.budget_projekt_dkk) for r in by_year],
            hovertemplate="%{x}: projekt %{y:.1%} (%{customdata})<extra></extra>",
        ),
        go.Scatter(
            # The target of each year, as configured (the seed allocation_policy): a step
            # where the policy changes.
            x=[x for y in years for x in (y - 0.5, y + 0.5)],
            y=[r.target_share_drift for r in by_year for _ in range(2)],
            mode="lines",
            name=_target_label(by_year),
            line={"color": GREEN, "dash": "dash", "width": 2},
            hoverinfo="skip",
        ),
    ]
    tolerance = [
        {
            "type": "rect",
            "xref": "x",
            "x0": r.year - 0.5,
            "x1": r.year + 0.5,
            "yref": "y",
            "y0": r.target_share_drift - r.tolerance_pp / 100,
            "y1": r.target_share_drift + r.tolerance_pp / 100,
            "fillcolor": GREEN,
            "opacity": 0.12,
            "line": {"width": 0},
        }
        for r in by_year
    ]
    layout = _layout(
        barmode="stack",
        shapes=tolerance,
        xaxis=_years(years),
        yaxis={"tickformat": ".0%", "range": [0, 1]},
    )
    return go.Figure(data=traces, layout=layout)


def allocation_figure(records: Sequence, x: Sequence, x_is_year: bool) -> go.Figure | None:
    """Actual against recommended (need-based) budget; records: Marts.allocation rows (named
    tuples); x: their years, or their areas' names (plain text)."""
    if not records:
        return None
    x = _values(x) if x_is_year else [label(name) for name in x]
    traces = [
        go.Bar(
            x=x,
            y=_values(r.actual_budget_dkk for r in records),
            name="Faktisk budget",
            marker={"color": BLUE},
            customdata=[fmt.percent(r.actual_share) for r in records],
            hovertemplate="%{x}: %{y:,.0f} kr. (%{customdata} af budgettet)<extra>Faktisk</extra>",
        )
    ]
    recommended = [r.recommended_budget_dkk for r in records]
    if not all(missing(v) for v in recommended):
        traces.append(
            go.Bar(
                x=x,
                y=_values(recommended),
                name="Anbefalet efter behov",
                marker={"color": ORANGE},
                customdata=[fmt.percent(r.need_share) for r in records],
                hovertemplate=(
                    "%{x}: %{y:,.0f} kr. (%{customdata} af behovet)<extra>Anbefalet</extra>"
                ),
            )
        )
    layout = _layout(
        barmode="group",
        xaxis=_years([int(y) for y in x]) if x_is_year else {},
        yaxis={"title": {"text": "kr."}, "tickformat": ",.0f"},
    )
    return go.Figure(data=traces, layout=layout)


def allocation_scatter(allocation: pd.DataFrame) -> go.Figure | None:
    """One point per area: recommended (need-based) against actual budget (national scale);
    allocation: Marts.allocation rows of one year with the area's `name`."""
    points = allocation.dropna(subset=["recommended_budget_dkk", "actual_budget_dkk"])
    if points.empty:
        return None
    top = float(max(points["recommended_budget_dkk"].max(), points["actual_budget_dkk"].max()))
    under = points["actual_budget_dkk"] < points["recommended_budget_dkk"]
    traces = [
        go.Scatter(
            x=[0, top],
            y=[0, top],
            mode="lines",
            name="Faktisk = anbefalet",
            line={"color": GREY, "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        ),
        go.Scatter(
            x=_values(points["recommended_budget_dkk"]),
            y=_values(points["actual_budget_dkk"]),
            mode="markers",
            name="Område (orange: under det anbefalede)",
            marker={
                "color": [ORANGE if u else BLUE for u in under],
                "size": 8,
                "opacity": 0.8,
                "line": {"color": "white", "width": 0.5},
            },
            customdata=[label(name) for name in points["name"]],
            hovertemplate="<b>%{customdata}</b><br>anbefalet %{x:,.0f} kr.<br>"
            "faktisk %{y:,.0f} kr.<extra></extra>",
        ),
    ]
    layout = _layout(
        height=460,
        legend={"orientation": "h", "y": -0.22, "x": 0},
        xaxis={"title": {"text": "anbefalet efter behov (kr.)"}, "tickformat": ",.0f"},
        yaxis={"title": {"text": "faktisk budget (kr.)"}, "tickformat": ",.0f"},
    )
    return go.Figure(data=traces, layout=layout)
