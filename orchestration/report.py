"""The board report: one self-contained HTML file in Danish, built from the marts (no Dagster).

plotly.js is inlined once (no CDN: the file works offline and can be mailed); every chart is
a plotly figure. A first page gives the whole picture; then one section per area: each
criterion against its threshold over the years, the list status per ruleset, what it takes to
get off the list now (persons_to_exit), tryghedsindeks, vandalism cost per dwelling, the
80/20 split and recommended against actual allocation. Figures are read from the mart
columns of MARTS.md only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

REPORT_MARTS = (
    "area_metrics",
    "area_criteria",
    "area_status",
    "area_list_status",
    "area_safety",
    "allocation_8020",
    "allocation_recommendation",
)
TITLE = "Fælles boligsocial indsats – bestyrelsesrapport"
ALL_AREAS = "ALLE"
TARGET_SHARE_DRIFT = 0.80
TOLERANCE_PP = 5

MONTHS_DA = (  # noqa: SIM905
    "januar februar marts april maj juni juli august september oktober november december"
).split()
RULESET_LABELS = {
    "sub_2010": "Regler 2010",
    "sub_2013": "Regler 2013",
    "law_2018": "Regler 2018",
    "law_2021": "Regler 2021",
}
# Category -> (short Danish label, list level 1..4); level 0 is "not on the list".
CATEGORIES = {
    "forebyggelse": ("Forebyggelsesområde", 1),
    "saerligt_udsat": ("Særligt udsat", 2),
    "udsat": ("Udsat", 2),
    "ghetto": ("Ghetto", 3),
    "parallelsamfund": ("Parallelsamfund", 3),
    "haardt_ghetto": ("Hårdt ghetto", 4),
    "omdannelse": ("Omdannelsesområde", 4),
}
CELL_ABBREVIATIONS = {
    "none": "–",
    "forebyggelse": "F",
    "saerligt_udsat": "SU",
    "udsat": "U",
    "ghetto": "G",
    "parallelsamfund": "P",
    "haardt_ghetto": "HG",
    "omdannelse": "O",
}
LEVELS = (
    ("Ikke på listen", "#a8d5a2"),
    ("Forebyggelsesområde", "#ffe08a"),
    ("Udsat / særligt udsat", "#ffb366"),
    ("Ghetto / parallelsamfund", "#e8686b"),
    ("Hårdt ghetto / omdannelse", "#8e1b1b"),
)
CRITERIA = {
    "unemployment": "Uden for arbejde eller uddannelse (18–64 år)",
    "crime": "Dømte for straffelov, våbenlov eller narkotika (18+ år)",
    "education": "Kun grundskole (30–59 år)",
    "income": "Gns. bruttoindkomst (15–64 år) i forhold til regionen",
    "non_western": "Indvandrere og efterkommere fra ikke-vestlige lande",
}
OPERATORS = {">": "over", ">=": "mindst", "<": "under", "<=": "højst"}
MONEY_METRICS = {"income_15_64"}
CATEGORY_COLORS = {
    "forebyggelse": "#c9a227",
    "saerligt_udsat": "#e07b00",
    "udsat": "#e07b00",
    "ghetto": "#c62828",
    "parallelsamfund": "#c62828",
    "haardt_ghetto": "#6a1b1b",
    "omdannelse": "#6a1b1b",
}
BLUE, GREY, RED, GREEN, ORANGE = "#1f5fa8", "#8c8c8c", "#c62828", "#2e7d32", "#e07b00"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "locale": "da",
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
# Danish texts for plotly.js's toolbar and number/date formats (it ships English only).
PLOTLY_LOCALE_DA = {
    "moduleType": "locale",
    "name": "da",
    "dictionary": {
        "Autoscale": "Autoskalér",
        "Box Select": "Markér område",
        "Compare data on hover": "Sammenlign data ved mus-over",
        "Double-click to zoom back out": "Dobbeltklik for at zoome ud igen",
        "Download plot as a png": "Gem figuren som PNG",
        "Download plot": "Gem figuren",
        "Pan": "Panorér",
        "Reset axes": "Nulstil akser",
        "Show closest data on hover": "Vis nærmeste data ved mus-over",
        "Snapshot succeeded": "Billedet er gemt",
        "Taking snapshot - this may take a few seconds": "Gemmer billede – et øjeblik",
        "Zoom": "Zoom",
        "Zoom in": "Zoom ind",
        "Zoom out": "Zoom ud",
    },
    "format": {
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "shortDays": ["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        "months": [m.capitalize() for m in MONTHS_DA],
        "shortMonths": "jan feb mar apr maj jun jul aug sep okt nov dec".split(),  # noqa: SIM905
        "date": "%d.%m.%Y",
        "decimal": ",",
        "thousands": ".",
    },
}


# --- Danish number formatting ---------------------------------------------------------------


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def da_number(value: float | None, decimals: int = 0) -> str:
    if _missing(value):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def da_percent(share: float | None, decimals: int | None = None) -> str:
    if _missing(share):
        return "–"
    if decimals is None:
        decimals = 2 if abs(float(share)) < 0.1 else 1
    return f"{da_number(float(share) * 100, decimals)} %"


def da_kroner(value: float | None) -> str:
    return "–" if _missing(value) else f"{da_number(value)} kr."


def da_date(moment: datetime) -> str:
    return f"{moment.day}. {MONTHS_DA[moment.month - 1]} {moment.year}"


def _metric_value(metric: str, value: float | None) -> str:
    return da_kroner(value) if metric in MONEY_METRICS else da_percent(value)


def _metric_margin(metric: str, margin: float | None) -> str:
    if _missing(margin):
        return "–"
    if metric in MONEY_METRICS:
        return da_kroner(margin)
    return f"{da_number(float(margin) * 100, 2)} procentpoint"


def _persons(count: float | None) -> str:
    if _missing(count):
        return "–"
    return "1 person" if int(count) == 1 else f"{da_number(count)} personer"


def _ruleset_label(ruleset: str) -> str:
    return RULESET_LABELS.get(ruleset, f"Regelsæt {ruleset}")


def _category_label(category: str) -> str:
    return CATEGORIES.get(category, (category, 2))[0]


def _category_level(category: str) -> int:
    return 0 if category == "none" else CATEGORIES.get(category, (category, 2))[1]


def _criterion_label(criterion: str) -> str:
    return CRITERIA.get(criterion, criterion)


def _e(text: object) -> str:
    return html.escape(str(text))


# --- Data --------------------------------------------------------------------------------


def load_marts(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {mart: con.execute(f"select * from marts.{mart}").df() for mart in REPORT_MARTS}


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 with NaN for NULL (plotly cannot serialise pd.NA or Decimal);
    booleans stay nullable (read them with _true/_is_true)."""
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


def _true(value: object) -> bool:
    """A nullable boolean read as a fact: NULL is not true."""
    return not _missing(value) and bool(value)


def _is_true(series: pd.Series) -> pd.Series:
    return series.map(_true).astype(bool)


@dataclass
class Marts:
    metrics: pd.DataFrame
    criteria: pd.DataFrame
    status: pd.DataFrame
    list_status: pd.DataFrame
    safety: pd.DataFrame
    split: pd.DataFrame
    recommendation: pd.DataFrame
    # year -> the ruleset in force in that year
    ruleset_in_force: dict[int, str] = field(default_factory=dict)
    area_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame]) -> Marts:
        missing = [mart for mart in REPORT_MARTS if mart not in frames]
        if missing:
            raise ValueError(f"the report needs the marts {', '.join(missing)}")
        f = {mart: _plain_numbers(frames[mart]) for mart in REPORT_MARTS}
        marts = cls(
            f["area_metrics"],
            f["area_criteria"],
            f["area_status"],
            f["area_list_status"],
            f["area_safety"],
            f["allocation_8020"],
            f["allocation_recommendation"],
        )
        in_force = marts.list_status[_is_true(marts.list_status["in_force"])]
        for year, rulesets in in_force.groupby("year")["ruleset"]:
            marts.ruleset_in_force[int(year)] = sorted(set(rulesets))[-1]
        names: dict[str, str] = {}
        for frame in (marts.safety, marts.metrics):
            for area_id, name in (
                frame[["area_id", "area_name"]].drop_duplicates().itertuples(index=False)
            ):
                if not _missing(name):
                    names.setdefault(area_id, name)
        ids = set(names)
        for frame in (marts.list_status, marts.split, marts.recommendation):
            ids |= set(frame["area_id"].dropna())
        ids.discard(ALL_AREAS)
        marts.area_names = {a: names.get(a, a) for a in sorted(ids, key=lambda a: names.get(a, a))}
        return marts

    def official(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of frame evaluated with the ruleset in force in their year."""
        if frame.empty:
            return frame
        wanted = frame["year"].map(lambda y: self.ruleset_in_force.get(int(y)))
        return frame[frame["ruleset"] == wanted]

    def latest_year(self, area_id: str | None = None) -> int | None:
        rows = self.official(self.list_status)
        if area_id is not None:
            rows = rows[rows["area_id"] == area_id]
        return None if rows.empty else int(rows["year"].max())

    def residents(self, area_id: str, year: int) -> float | None:
        rows = self.metrics[
            (self.metrics["area_id"] == area_id)
            & (self.metrics["year"] == year)
            & (self.metrics["metric"] == "residents")
        ]
        return None if rows.empty else rows["value"].iloc[0]


# --- Figures -----------------------------------------------------------------------------


# A slim version of plotly_white: the full template is large, and copying it into every
# figure dominated the report's build time.
TEMPLATE = go.layout.Template(
    layout={
        "colorway": [BLUE, ORANGE, "#6a3d9a", "#2a9d8f", "#b15928", "#1b9e77"],
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
        "yaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
    }
)


def _figure(*traces) -> go.Figure:
    return go.Figure(data=list(traces), layout={"template": TEMPLATE})


def _layout(figure: go.Figure, height: int = 380, **extra) -> go.Figure:
    figure.update_layout(
        legend={"orientation": "h", "y": -0.15, "x": 0},
        height=height,
        separators=",.",
        font={"family": FONT, "size": 13},
        hoverlabel={"font": {"family": FONT}},
        **({"margin": {"l": 60, "r": 20, "t": 30, "b": 40}} | extra),
    )
    figure.update_yaxes(automargin=True)
    figure.update_xaxes(automargin=True)
    return figure


def _year_axis(figure: go.Figure, years: list[int], **kwargs) -> None:
    figure.update_xaxes(
        tickmode="array", tickvals=years, ticktext=[str(y) for y in years], **kwargs
    )


def status_heatmap(rows: pd.DataFrame, row_key: str, row_labels: dict[str, str]) -> go.Figure:
    """Status per (row, year): rulesets of one area, or the areas under the rules in force."""
    years = sorted(int(y) for y in rows["year"].unique())
    keys = [k for k in row_labels if k in set(rows[row_key])]
    cells = {(r[row_key], int(r["year"])): r for _, r in rows.iterrows()}
    z, text, hover = [], [], []
    for key in keys:
        z_row, text_row, hover_row = [], [], []
        for year in years:
            row = cells.get((key, year))
            if row is None:
                z_row.append(None)
                text_row.append("")
                hover_row.append(f"{row_labels[key]}, {year}: ingen data")
                continue
            z_row.append(_category_level(row["status"]))
            text_row.append(CELL_ABBREVIATIONS.get(row["status"], row["status"]))
            force = (
                "gældende regler"
                if _true(row["in_force"])
                else "beregnet med reglerne for sammenligning"
            )
            hover_row.append(
                f"{row_labels[key]}, {year}<br><b>{_e(row['status_label_da'])}</b><br>"
                f"{_ruleset_label(row['ruleset'])} ({force})"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    n = len(LEVELS)
    colorscale = []
    for level, (_, color) in enumerate(LEVELS):
        colorscale += [[level / n, color], [(level + 1) / n, color]]
    figure = _figure(
        go.Heatmap(
            z=z,
            x=[str(y) for y in years],
            y=[row_labels[k] for k in keys],
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=colorscale,
            xgap=2,
            ygap=2,
            colorbar={
                "tickvals": list(range(n)),
                "ticktext": [label for label, _ in LEVELS],
                "thickness": 14,
                "len": 1.0,
            },
        )
    )
    # Frame the cells evaluated with the rules in force in their year (the official list).
    frames = [
        {
            "type": "rect",
            "x0": j - 0.5,
            "x1": j + 0.5,
            "y0": i - 0.5,
            "y1": i + 0.5,
            "line": {"color": "#222", "width": 2},
        }
        for i, key in enumerate(keys)
        for j, year in enumerate(years)
        if row_key == "ruleset" and (key, year) in cells and _true(cells[key, year]["in_force"])
    ]
    figure.update_layout(shapes=frames)
    _layout(figure, height=110 + 42 * len(keys), margin={"l": 110, "r": 20, "t": 20, "b": 40})
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(type="category")
    return figure


def criteria_figure(marts: Marts, area_id: str) -> go.Figure | None:
    rows = marts.official(marts.criteria[marts.criteria["area_id"] == area_id])
    if rows.empty:
        return None
    criteria = [c for c in CRITERIA if c in set(rows["criterion"])]
    criteria += sorted(set(rows["criterion"]) - set(criteria))
    columns = 2
    n_rows = (len(criteria) + columns - 1) // columns
    figure = make_subplots(
        figure=_figure(),
        rows=n_rows,
        cols=columns,
        subplot_titles=[_criterion_label(c) for c in criteria],
        vertical_spacing=0.38 / n_rows,
        horizontal_spacing=0.1,
    )
    shown: set[str] = set()
    years = sorted(int(y) for y in rows["year"].unique())
    for index, criterion in enumerate(criteria):
        position = {"row": index // columns + 1, "col": index % columns + 1}
        chosen = rows[rows["criterion"] == criterion].sort_values("year")
        metric = chosen["metric"].iloc[0]
        money = metric in MONEY_METRICS
        # Categories share the value of a criterion (same window): one line of values.
        values = chosen.dropna(subset=["value"]).drop_duplicates("year")
        met = values["met"].map(lambda m: RED if _true(m) else BLUE)
        figure.add_trace(
            go.Scatter(
                x=values["year"],
                y=values["value"],
                mode="lines+markers",
                name="Områdets værdi",
                legendgroup="value",
                showlegend="value" not in shown,
                line={"color": BLUE, "width": 2.5},
                marker={"color": list(met), "size": 9, "line": {"color": "white", "width": 1}},
                hovertemplate=(
                    "%{x}: %{y:,.0f} kr.<extra>Værdi</extra>"
                    if money
                    else "%{x}: %{y:.2%}<extra>Værdi</extra>"
                ),
            ),
            **position,
        )
        shown.add("value")
        for category, threshold_rows in chosen.groupby("category", sort=False):
            label = f"Grænse: {_category_label(category)}"
            points = threshold_rows.drop_duplicates("year")
            figure.add_trace(
                go.Scatter(
                    x=points["year"],
                    y=points["threshold"],
                    mode="lines",
                    line={
                        "color": CATEGORY_COLORS.get(category, GREY),
                        "dash": "dash",
                        "shape": "hvh",
                        "width": 1.8,
                    },
                    name=label,
                    legendgroup=label,
                    showlegend=label not in shown,
                    customdata=[
                        f"{OPERATORS.get(op, op)} {_metric_value(metric, t)}"
                        for op, t in zip(points["operator"], points["threshold"], strict=True)
                    ],
                    hovertemplate="%{x}: %{customdata}<extra>" + _e(label) + "</extra>",
                ),
                **position,
            )
            shown.add(label)
        figure.update_yaxes(tickformat=",.0f" if money else ".0%", rangemode="tozero", **position)
    _layout(figure, height=300 * n_rows + 60, margin={"l": 60, "r": 20, "t": 50, "b": 40})
    figure.update_layout(legend={"y": -0.4 / n_rows})
    figure.update_annotations(font={"size": 13})
    _year_axis(figure, years[:: max(1, len(years) // 8)])
    return figure


@dataclass
class ExitRoute:
    category: str
    text: str
    persons: float | None  # persons for the cheapest way out of the category, if reachable


def exit_routes(marts: Marts, area_id: str, year: int) -> list[ExitRoute]:
    """What it takes, in year `year`, for the area to stop qualifying for each category it is in."""
    ruleset = marts.ruleset_in_force.get(year)
    status = marts.status[
        (marts.status["area_id"] == area_id)
        & (marts.status["year"] == year)
        & (marts.status["ruleset"] == ruleset)
    ]
    criteria = marts.criteria[
        (marts.criteria["area_id"] == area_id)
        & (marts.criteria["year"] == year)
        & (marts.criteria["ruleset"] == ruleset)
    ]
    routes = []
    for row in status.sort_values("category").itertuples(index=False):
        if not _true(row.qualifies):
            continue
        own = criteria[criteria["category"] == row.category]
        count = own[(own["role"] == "count") & _is_true(own["met"])]
        gates = own[(own["role"] == "gate") & _is_true(own["met"])]
        label = _category_label(row.category)
        parts, best = [], None
        if len(count) and not _missing(row.criteria_required):
            needed = int(row.criteria_met) - int(row.criteria_required) + 1
            cheapest = count.sort_values("persons_to_exit", na_position="last").head(needed)
            names = [
                f"{_criterion_label(c.criterion).lower()} ({_exit_persons(c)})"
                for c in cheapest.itertuples(index=False)
            ]
            parts.append(
                f"{int(row.criteria_met)} kriterier er opfyldt, og "
                f"{int(row.criteria_required)} kræves: {needed} "
                f"{'kriterium' if needed == 1 else 'kriterier'} skal under grænsen. "
                f"Billigst: {' og '.join(names)}"
            )
            if cheapest["persons_to_exit"].notna().all():
                best = float(cheapest["persons_to_exit"].sum())
                parts[-1] += f", i alt {_persons(best)}"
        for gate in gates.itertuples(index=False):
            parts.append(
                f"eller {_criterion_label(gate.criterion).lower()} ({_exit_persons(gate)})"
            )
            if not _missing(gate.persons_to_exit):
                best = min(x for x in (best, float(gate.persons_to_exit)) if x is not None)
        if not parts:
            parts.append("kategorien følger af en anden kategori (se ovenfor)")
        routes.append(
            ExitRoute(row.category, f"<b>{_e(label)}</b>: " + "; ".join(parts) + ".", best)
        )
    return routes


def _exit_persons(criterion) -> str:
    if not _missing(criterion.persons_to_exit):
        return _persons(criterion.persons_to_exit)
    if criterion.metric in MONEY_METRICS:
        return "opgøres ikke i personer"
    return "kan ikke nås alene med ét års udvikling"


def persons_to_exit_figure(marts: Marts, area_id: str, year: int) -> go.Figure | None:
    ruleset = marts.ruleset_in_force.get(year)
    rows = marts.criteria[
        (marts.criteria["area_id"] == area_id)
        & (marts.criteria["year"] == year)
        & (marts.criteria["ruleset"] == ruleset)
        & _is_true(marts.criteria["met"])
    ].dropna(subset=["persons_to_exit"])
    if rows.empty:
        return None
    rows = rows.sort_values("persons_to_exit", ascending=False)
    labels = [
        f"{_category_label(r.category)}: {_criterion_label(r.criterion)}"
        for r in rows.itertuples(index=False)
    ]
    figure = _figure(
        go.Bar(
            x=rows["persons_to_exit"],
            y=labels,
            orientation="h",
            marker={"color": [CATEGORY_COLORS.get(c, GREY) for c in rows["category"]]},
            text=[_persons(p) for p in rows["persons_to_exit"]],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:,.0f} personer<extra></extra>",
        )
    )
    _layout(figure, height=90 + 44 * len(rows), margin={"l": 20, "r": 20, "t": 20, "b": 40})
    figure.update_yaxes(automargin=True)
    figure.update_xaxes(title="personer der skal ud af kriteriets gruppe", rangemode="tozero")
    return figure


def safety_index_figure(safety: pd.DataFrame, area_names: dict[str, str]) -> go.Figure | None:
    rows = safety[safety["area_id"].isin(area_names)].sort_values("year")
    if rows[["tryghedsindeks", "national_index", "udsatte_average_index"]].notna().sum().sum() == 0:
        return None
    figure = _figure()
    palette = [BLUE, ORANGE, "#6a3d9a", "#2a9d8f", "#b15928", "#1b9e77"]
    for index, (area_id, name) in enumerate(area_names.items()):
        area = rows[(rows["area_id"] == area_id) & rows["tryghedsindeks"].notna()]
        if not area.empty:
            figure.add_trace(
                go.Scatter(
                    x=area["year"],
                    y=area["tryghedsindeks"],
                    name=name,
                    mode="lines+markers",
                    line={"color": palette[index % len(palette)], "width": 2.5},
                    hovertemplate="%{x}: %{y:.1f}<extra>" + _e(name) + "</extra>",
                )
            )
    benchmarks = rows.drop_duplicates("year")
    for column, label, color in (
        ("national_index", "Hele landet", GREEN),
        ("udsatte_average_index", "Alle udsatte områder", GREY),
    ):
        points = benchmarks[benchmarks[column].notna()]
        if not points.empty:
            figure.add_trace(
                go.Scatter(
                    x=points["year"],
                    y=points[column],
                    name=label,
                    mode="lines",
                    line={"color": color, "dash": "dash", "width": 2},
                    hovertemplate="%{x}: %{y:.1f}<extra>" + label + "</extra>",
                )
            )
    _layout(figure)
    figure.update_yaxes(title="tryghedsindeks")
    _year_axis(figure, sorted(int(y) for y in rows["year"].unique()))
    return figure


def vandalism_figure(safety: pd.DataFrame) -> go.Figure | None:
    rows = safety.sort_values("year")
    if rows.empty or rows["vandalism_cost_dkk"].fillna(0).sum() == 0:
        return None
    figure = make_subplots(figure=_figure(), specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            x=rows["year"],
            y=rows["vandalism_cost_per_dwelling_dkk"],
            name="Udgift pr. bolig",
            marker={"color": ORANGE},
            customdata=list(
                zip(
                    [da_kroner(c) for c in rows["vandalism_cost_dkk"]],
                    [da_number(d) for d in rows["dwellings"]],
                    strict=True,
                )
            ),
            hovertemplate=(
                "%{x}: %{y:,.0f} kr. pr. bolig<br>i alt %{customdata[0]}, "
                "%{customdata[1]} boliger<extra></extra>"
            ),
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=rows["year"],
            y=rows["vandalism_cases"],
            name="Sager",
            mode="lines+markers",
            line={"color": GREY},
            hovertemplate="%{x}: %{y} sager<extra></extra>",
        ),
        secondary_y=True,
    )
    _layout(figure)
    figure.update_yaxes(title="kr. pr. bolig", tickformat=",.0f", secondary_y=False)
    figure.update_yaxes(
        title="sager", rangemode="tozero", tickformat=",.0f", showgrid=False, secondary_y=True
    )
    _year_axis(figure, [int(y) for y in rows["year"]])
    return figure


def incidents_figure(safety: pd.DataFrame) -> go.Figure | None:
    rows = safety.sort_values("year")
    if rows.empty or rows[["police_incidents", "arson_incidents"]].fillna(0).to_numpy().sum() == 0:
        return None
    figure = _figure()
    for column, label, color in (
        ("police_incidents", "Anmeldelser i alt", BLUE),
        ("arson_incidents", "Heraf påsatte brande", RED),
    ):
        figure.add_trace(
            go.Bar(
                x=rows["year"],
                y=rows[column],
                name=label,
                marker={"color": color},
                hovertemplate="%{x}: %{y}<extra>" + label + "</extra>",
            )
        )
    _layout(figure, height=320, barmode="group")
    _year_axis(figure, [int(y) for y in rows["year"]])
    return figure


def split_figure(split: pd.DataFrame) -> go.Figure | None:
    rows = split.dropna(subset=["share_drift"]).sort_values("year")
    if rows.empty:
        return None
    years = [int(y) for y in rows["year"]]
    outside = ~_is_true(rows["within_tolerance"])
    figure = _figure()
    figure.add_hrect(
        y0=TARGET_SHARE_DRIFT - TOLERANCE_PP / 100,
        y1=TARGET_SHARE_DRIFT + TOLERANCE_PP / 100,
        fillcolor=GREEN,
        opacity=0.12,
        line_width=0,
    )
    figure.add_trace(
        go.Bar(
            x=rows["year"],
            y=rows["share_drift"],
            name="Drift (varige indsatser)",
            marker={
                "color": BLUE,
                "line": {"color": [RED if o else BLUE for o in outside], "width": 3},
            },
            text=[da_percent(s, 0) for s in rows["share_drift"]],
            textposition="inside",
            customdata=list(
                zip(
                    [da_kroner(b) for b in rows["budget_drift_dkk"]],
                    [da_number(d, 1) for d in rows["deviation_pp"]],
                    strict=True,
                )
            ),
            hovertemplate=(
                "%{x}: drift %{y:.1%} (%{customdata[0]})<br>"
                "afvigelse fra målet %{customdata[1]} procentpoint<extra></extra>"
            ),
        )
    )
    figure.add_trace(
        go.Bar(
            x=rows["year"],
            y=1 - rows["share_drift"],
            name="Projekt (midlertidige indsatser)",
            marker={"color": "#9ecae1"},
            customdata=[da_kroner(b) for b in rows["budget_projekt_dkk"]],
            hovertemplate="%{x}: projekt %{y:.1%} (%{customdata})<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[years[0] - 0.5, years[-1] + 0.5],
            y=[TARGET_SHARE_DRIFT] * 2,
            mode="lines",
            name="Mål: 80 % drift (±5 procentpoint)",
            line={"color": GREEN, "dash": "dash", "width": 2},
            hoverinfo="skip",
        )
    )
    _layout(figure, barmode="stack")
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    _year_axis(figure, years)
    return figure


def allocation_figure(rows: pd.DataFrame, x: pd.Series, x_is_year: bool) -> go.Figure | None:
    """Actual against recommended (need-based) budget; rows carry actual_budget_dkk."""
    if rows.empty:
        return None
    figure = _figure()
    figure.add_trace(
        go.Bar(
            x=x,
            y=rows["actual_budget_dkk"],
            name="Faktisk budget",
            marker={"color": BLUE},
            customdata=[da_percent(s) for s in rows["actual_share"]],
            hovertemplate="%{x}: %{y:,.0f} kr. (%{customdata} af budgettet)<extra>Faktisk</extra>",
        )
    )
    recommended = rows["recommended_budget_dkk"]
    if recommended.notna().any():
        figure.add_trace(
            go.Bar(
                x=x,
                y=recommended,
                name="Anbefalet efter behov",
                marker={"color": ORANGE},
                customdata=[da_percent(s) for s in rows["need_share"]],
                hovertemplate=(
                    "%{x}: %{y:,.0f} kr. (%{customdata} af behovet)<extra>Anbefalet</extra>"
                ),
            )
        )
    _layout(figure, barmode="group")
    figure.update_yaxes(title="kr.", tickformat=",.0f")
    if x_is_year:
        _year_axis(figure, [int(y) for y in x])
    return figure


def _with_actual_budget(marts: Marts) -> pd.DataFrame:
    totals = marts.split[marts.split["area_id"] == ALL_AREAS]
    totals = totals.assign(total=totals["budget_drift_dkk"] + totals["budget_projekt_dkk"])
    rows = marts.recommendation.merge(totals[["year", "total"]], on="year", how="left")
    return rows.assign(actual_budget_dkk=rows["actual_share"] * rows["total"])


# --- HTML --------------------------------------------------------------------------------


@dataclass
class Page:
    charts: int = 0
    parts: list[str] = field(default_factory=list)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def chart(self, title: str, figure: go.Figure | None, note: str = "", empty: str = "") -> None:
        if figure is None:
            self.add(
                f'<figure class="chart-box"><figcaption>{_e(title)}</figcaption>'
                f'<p class="empty">{_e(empty or "Ingen data.")}</p></figure>'
            )
            return
        self.charts += 1
        div = figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{self.charts}",
            config=PLOTLY_CONFIG,
        )
        caption = f'<p class="note">{note}</p>' if note else ""
        self.add(
            f'<figure class="chart-box"><figcaption>{_e(title)}</figcaption>{div}{caption}</figure>'
        )


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(
        f'<th class="{"num" if i >= numeric_from else ""}">{_e(h)}</th>'
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i >= numeric_from else ""}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _latest(frame: pd.DataFrame, column: str) -> tuple[int | None, object]:
    rows = frame.dropna(subset=[column]).sort_values("year")
    return (None, None) if rows.empty else (int(rows["year"].iloc[-1]), rows[column].iloc[-1])


def _status_badge(category: str, label: str) -> str:
    color = LEVELS[_category_level(category)][1]
    dark = _category_level(category) >= 3
    return (
        f'<span class="badge" style="background:{color};color:{"#fff" if dark else "#222"}">'
        f"{_e(label)}</span>"
    )


def overview(page: Page, marts: Marts) -> None:
    year = marts.latest_year()
    official = marts.official(marts.list_status)
    points = []
    if year is not None:
        now = official[official["year"] == year]
        listed = now[now["status"] != "none"]
        names = [
            f"{_e(marts.area_names.get(r.area_id, r.area_id))} ({_e(r.status_label_da)})"
            for r in listed.itertuples(index=False)
        ]
        ruleset = _ruleset_label(marts.ruleset_in_force[year])
        if names:
            points.append(
                f"I {year} er {len(names)} af {len(marts.area_names)} områder på en liste efter de "
                f"gældende regler ({ruleset}): {', '.join(names)}."
            )
        else:
            points.append(f"I {year} er ingen af områderne på en liste ({ruleset}).")
        ever = sorted(set(official[official["status"] != "none"]["area_id"]))
        if ever:
            points.append(
                f"På en liste i mindst ét år siden {int(official['year'].min())}: "
                + ", ".join(_e(marts.area_names.get(a, a)) for a in ever)
                + ". Visionen er, at intet område er på listen efter 2025."
            )
    safety = marts.safety[marts.safety["area_id"].isin(marts.area_names)]
    index_year, _ = _latest(safety, "tryghedsindeks")
    if index_year is not None:
        rows = safety[(safety["year"] == index_year) & safety["tryghedsindeks"].notna()]
        areas = ", ".join(
            f"{_e(marts.area_names[r.area_id])} {da_number(r.tryghedsindeks, 1)}"
            for r in rows.itertuples(index=False)
        )
        first = rows.iloc[0]
        points.append(
            f"Tryghedsindeks {index_year}: {areas} (hele landet "
            f"{da_number(first['national_index'], 1)}, alle udsatte områder "
            f"{da_number(first['udsatte_average_index'], 1)})."
        )
    totals = marts.split[marts.split["area_id"] == ALL_AREAS]
    split_year, share = _latest(totals, "share_drift")
    if split_year is not None:
        row = totals[totals["year"] == split_year].iloc[0]
        verdict = "inden for" if _true(row["within_tolerance"]) else "uden for"
        points.append(
            f"80/20: I {split_year} gik {da_percent(share)} af budgettet til drift (varige "
            f"indsatser); målet er 80 %, og afvigelsen på {da_number(row['deviation_pp'], 1)} "
            f"procentpoint er {verdict} tolerancen på ±5 procentpoint."
        )
    page.add(
        '<section id="overblik"><h2>Overblik</h2><ul class="points">'
        + "".join(f"<li>{p}</li>" for p in points)
        + "</ul>"
    )

    header = [
        "Område",
        "Beboere",
        "Status (gældende regler)",
        "Vej ud af listen",
        "Tryghedsindeks",
        "Hærværk pr. bolig",
        "Driftsandel (80/20)",
    ]
    table_rows = []
    for area_id, name in marts.area_names.items():
        area_year = marts.latest_year(area_id)
        status_cell, exit_cell = "–", "–"
        if area_year is not None:
            row = official[(official["area_id"] == area_id) & (official["year"] == area_year)]
            row = row.iloc[0]
            status_cell = f"{_status_badge(row['status'], row['status_label_da'])} ({area_year})"
            routes = exit_routes(marts, area_id, area_year)
            if routes:
                reachable = [r.persons for r in routes if r.persons is not None]
                exit_cell = (
                    ("mindst " if len(routes) > 1 else "") + _persons(max(reachable))
                    if len(reachable) == len(routes)
                    else "ikke inden for ét år"
                )
            else:
                exit_cell = "ikke på listen"
        area_safety = safety[safety["area_id"] == area_id]
        index_year, index = _latest(area_safety, "tryghedsindeks")
        cost_year, cost = _latest(
            area_safety[area_safety["vandalism_cost_dkk"].fillna(0) > 0],
            "vandalism_cost_per_dwelling_dkk",
        )
        area_split = marts.split[marts.split["area_id"] == area_id]
        share_year, share = _latest(area_split, "share_drift")
        residents = marts.residents(area_id, area_year) if area_year is not None else None
        table_rows.append(
            [
                f'<a href="#{_e(area_id)}">{_e(name)}</a>',
                da_number(residents),
                status_cell,
                exit_cell,
                f"{da_number(index, 1)} ({index_year})" if index_year else "–",
                f"{da_kroner(cost)} ({cost_year})" if cost_year else "–",
                f"{da_percent(share, 0)} ({share_year})" if share_year else "–",
            ]
        )
    page.add(_table(header, table_rows))
    page.add(
        '<p class="note">“Vej ud af listen”: det mindste antal personer, der skal ud af '
        "kriteriernes grupper i seneste dataår, for at området ikke længere opfylder den mest "
        "krævende af sine kategorier (se områdets side).</p>"
    )
    page.chart(
        "Listestatus efter de gældende regler",
        status_heatmap(official, "area_id", marts.area_names) if not official.empty else None,
        note="F = forebyggelsesområde, U = udsat, SU = særligt udsat, G = ghetto, "
        "P = parallelsamfund, HG = hårdt ghetto, O = omdannelsesområde, – = ikke på listen. "
        "Dataåret er statistikkens år; listen offentliggøres 1. december.",
    )
    page.chart(
        "Tryghedsindeks: områderne mod hele landet og alle udsatte områder",
        safety_index_figure(marts.safety, marts.area_names),
        empty="Ingen tryghedsmålinger.",
    )
    page.chart(
        "80/20: drift og projekt for alle områder samlet",
        split_figure(totals),
        note="Målet er, at 80 % af indsatsen styrker varig (primært kommunal) drift og 20 % er "
        "midlertidige projekter. Rød kant: uden for tolerancen på ±5 procentpoint.",
        empty="Ingen indsatsdata.",
    )
    allocation = _with_actual_budget(marts)
    with_need = allocation.dropna(subset=["recommended_budget_dkk"])
    if not with_need.empty:
        need_year = int(with_need["year"].max())
        rows = allocation[allocation["year"] == need_year]
        rows = rows.assign(name=rows["area_id"].map(lambda a: marts.area_names.get(a, a)))
        rows = rows.sort_values("name")
        page.chart(
            f"Fordeling af budgettet {need_year}: faktisk og anbefalet efter behov",
            allocation_figure(rows, rows["name"], x_is_year=False),
            note="Anbefalet = områdets andel af det samlede behov (beboere × gennemsnitligt "
            "kriterietryk) × det samlede budget.",
        )
    page.add("</section>")


def area_section(page: Page, marts: Marts, area_id: str, name: str) -> None:
    page.add(f'<section class="area" id="{_e(area_id)}"><h2>{_e(name)}</h2>')
    year = marts.latest_year(area_id)
    if year is not None:
        row = marts.official(marts.list_status)
        row = row[(row["area_id"] == area_id) & (row["year"] == year)].iloc[0]
        residents = marts.residents(area_id, year)
        page.add(
            f'<p class="lead">Status {year} efter {_ruleset_label(row["ruleset"]).lower()}: '
            f"{_status_badge(row['status'], row['status_label_da'])} · "
            f"{da_number(residents)} beboere</p>"
        )
    page.chart(
        "Kriterierne over årene mod grænserne (de gældende regler hvert år)",
        criteria_figure(marts, area_id),
        note="Røde punkter: kriteriet er opfyldt. Værdien er gennemsnittet over kriteriets "
        "vindue (fx 2 år), som reglerne foreskriver; grænserne skifter, når reglerne gør.",
        empty="Ingen statistik for området.",
    )
    rulesets = marts.list_status[marts.list_status["area_id"] == area_id]
    page.chart(
        "Listestatus år for år efter hvert regelsæt",
        status_heatmap(
            rulesets,
            "ruleset",
            {r: _ruleset_label(r) for r in sorted(set(rulesets["ruleset"]), key=_ruleset_order)},
        )
        if not rulesets.empty
        else None,
        note="Sort ramme: reglerne, der gjaldt i året (den officielle liste). De øvrige felter "
        "viser, hvad de andre regelsæt ville sige om samme år.",
    )
    page.add(f"<h3>Hvad skal der til for at komme af listen{f' ({year})' if year else ''}?</h3>")
    if year is not None:
        routes = exit_routes(marts, area_id, year)
        if routes:
            page.add("<ul>" + "".join(f"<li>{r.text}</li>" for r in routes) + "</ul>")
            page.add(
                '<p class="note">Antal personer, der i seneste dataår skulle ud af kriteriets '
                "gruppe (fx i beskæftigelse eller uddannelse), med alt andet uændret, før "
                "kriteriet ikke længere er opfyldt.</p>"
            )
        else:
            page.add(f"<p>{_e(name)} er ikke på listen i {year}.</p>")
        page.chart(
            f"Personer for at komme under grænsen, opfyldte kriterier {year}",
            persons_to_exit_figure(marts, area_id, year),
            empty="Ingen opfyldte kriterier, der kan opgøres i personer.",
        )
        page.add(criteria_table(marts, area_id, year))
    area_safety = marts.safety[marts.safety["area_id"] == area_id]
    page.chart(
        "Tryghedsindeks mod hele landet og alle udsatte områder",
        safety_index_figure(area_safety, {area_id: name}),
        note="Højere er tryggere (politiets tryghedsundersøgelse).",
        empty="Området indgår ikke i tryghedsundersøgelsen.",
    )
    page.chart(
        "Hærværk: udgift pr. bolig og antal sager",
        vandalism_figure(area_safety),
        empty="Ingen hærværkssager.",
    )
    page.chart("Politianmeldelser og påsatte brande", incidents_figure(area_safety))
    page.chart(
        "80/20: drift og projekt i området",
        split_figure(marts.split[marts.split["area_id"] == area_id]),
        note="Rød kant: uden for tolerancen (80 % ± 5 procentpoint).",
        empty="Ingen indsatsdata.",
    )
    allocation = _with_actual_budget(marts)
    rows = allocation[allocation["area_id"] == area_id].sort_values("year")
    page.chart(
        "Faktisk og anbefalet fordeling af budgettet",
        allocation_figure(rows, rows["year"], x_is_year=True),
        note="Anbefalet efter behov findes kun for år med statistik.",
        empty="Ingen indsatsdata.",
    )
    page.add("</section>")


def _ruleset_order(ruleset: str) -> tuple[int, str]:
    digits = "".join(ch for ch in ruleset if ch.isdigit())
    return (int(digits) if digits else 0, ruleset)


def criteria_table(marts: Marts, area_id: str, year: int) -> str:
    ruleset = marts.ruleset_in_force.get(year)
    rows = marts.criteria[
        (marts.criteria["area_id"] == area_id)
        & (marts.criteria["year"] == year)
        & (marts.criteria["ruleset"] == ruleset)
    ]
    if rows.empty:
        return ""
    rows = rows.assign(level=rows["category"].map(_category_level)).sort_values(
        ["level", "category", "role", "criterion"], ascending=[False, True, True, True]
    )
    body = []
    for r in rows.itertuples(index=False):
        met = "ja" if _true(r.met) else ("–" if _missing(r.met) else "nej")
        persons = _exit_persons(r) if _true(r.met) else "–"
        body.append(
            [
                _e(_category_label(r.category)) + (" (krav)" if r.role == "gate" else ""),
                _e(_criterion_label(r.criterion)),
                _metric_value(r.metric, r.value),
                f"{OPERATORS.get(r.operator, r.operator)} {_metric_value(r.metric, r.threshold)}",
                f'<b class="met">{met}</b>' if met == "ja" else met,
                _metric_margin(r.metric, r.margin),
                persons,
            ]
        )
    header = ["Kategori", "Kriterium", "Værdi", "Grænse", "Opfyldt", "Margin", "Vej ud"]
    return (
        f"<h4>Kriterierne {year} ({_e(_ruleset_label(ruleset))})</h4>"
        + _table(header, body, numeric_from=2)
        + '<p class="note">Margin: hvor langt værdien er forbi grænsen (positiv = opfyldt). '
        "(krav) = betingelse for kategorien ud over de tællende kriterier.</p>"
    )


STYLE = f"""
:root {{ --ink: #1d1d1f; --muted: #5f6368; --line: #e3e3e3; --accent: #1f5fa8; }}
* {{ box-sizing: border-box; }}
body {{ font-family: {FONT}; color: var(--ink); margin: 0; background: #f6f7f9; }}
header {{ background: var(--accent); color: white; padding: 24px 32px 16px; }}
header h1 {{ margin: 0 0 4px; font-size: 26px; }}
header p {{ margin: 0; opacity: .9; }}
nav {{ position: sticky; top: 0; z-index: 10; background: white; border-bottom: 1px solid
  var(--line); padding: 8px 32px; display: flex; gap: 18px; flex-wrap: wrap; }}
nav a {{ color: var(--accent); text-decoration: none; font-weight: 600; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 16px 32px 48px; }}
section {{ background: white; border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 24px 24px; margin: 24px 0; }}
h2 {{ font-size: 22px; border-bottom: 2px solid var(--accent); padding-bottom: 6px; }}
h3 {{ font-size: 18px; margin-top: 28px; }}
h4 {{ font-size: 15px; margin: 20px 0 6px; }}
.lead {{ font-size: 16px; }}
.points li {{ margin: 6px 0; line-height: 1.45; }}
figure.chart-box {{ margin: 20px 0; }}
figcaption {{ font-weight: 600; font-size: 15px; margin-bottom: 4px; }}
.note {{ color: var(--muted); font-size: 13px; margin: 4px 0 0; line-height: 1.4; }}
.empty {{ color: var(--muted); font-style: italic; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0; }}
th, td {{ border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left;
  vertical-align: top; }}
th {{ background: #f0f3f7; }}
td.num, th.num {{ text-align: right; white-space: nowrap; }}
.badge {{ display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px;
  font-weight: 600; }}
b.met {{ color: #c62828; }}
footer {{ color: var(--muted); font-size: 12px; text-align: center; padding: 16px; }}
@media print {{
  body {{ background: white; }}
  nav {{ display: none; }}
  section {{ border: none; break-before: page; }}
  section#overblik {{ break-before: auto; }}
  figure.chart-box {{ break-inside: avoid; }}
}}
"""


def build_report(
    source: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame],
    *,
    generated_at: datetime | None = None,
    title: str = TITLE,
) -> str:
    """The report as one HTML document, from a connection holding schema `marts` or from frames."""
    frames = load_marts(source) if isinstance(source, duckdb.DuckDBPyConnection) else source
    return render(Marts.from_frames(frames), generated_at or datetime.now(), title)[0]


def render(marts: Marts, generated_at: datetime, title: str = TITLE) -> tuple[str, int]:
    """The HTML document and its number of charts."""
    page = Page()
    overview(page, marts)
    for area_id, name in marts.area_names.items():
        area_section(page, marts, area_id, name)
    years = sorted(marts.ruleset_in_force)
    period = f"Dataår {years[0]}–{years[-1]}" if years else "Ingen dataår"
    nav = '<a href="#overblik">Overblik</a>' + "".join(
        f'<a href="#{_e(a)}">{_e(n)}</a>' for a, n in marts.area_names.items()
    )
    document = f"""<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="boligsocial-pipeline">
<title>{_e(title)}</title>
<style>{STYLE}</style>
<script>{get_plotlyjs()}</script>
<script>Plotly.register({json.dumps(PLOTLY_LOCALE_DA, ensure_ascii=False)});</script>
</head>
<body>
<header><h1>{_e(title)}</h1>
<p>{period} · {len(marts.area_names)} boligområder · dannet {da_date(generated_at)}</p></header>
<nav>{nav}</nav>
<main>
{"".join(page.parts)}
</main>
<footer>Kilde: boligsocial-pipelinens marts (Danmarks Statistik, politiet, boligorganisationerne
og Kompetencecentrets indsatsregister). Alle figurer kan holdes over for at se tallene.</footer>
</body>
</html>
"""
    return document, page.charts
