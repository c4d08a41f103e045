"""The board report: one self-contained HTML file in Danish, built from the marts (no Dagster).

plotly.js is inlined once (no CDN: the file works offline and can be mailed); every chart is
a plotly figure, written as plain plotly JSON (dicts, subplot grids laid out as plotly's
make_subplots does; plotly.graph_objects is not even imported: its import and validation
dominated the build time at national scale). Figures are read from the mart columns of
MARTS.md only.

A first page (Overblik) gives the whole picture for every area in the marts: key points, a
table with one row per area (status, persons needed to get off the list, tryghedsindeks,
vandalism per dwelling, drift share), the list status over the years, tryghedsindeks against
Denmark and all udsatte areas, the 80/20 split for all areas and the budget against the
need-based recommendation. Then one section per *detail area*: each criterion against its
threshold over the years, the list status per ruleset, what it takes to get off the list now
(persons_to_exit), tryghedsindeks, vandalism cost per dwelling, the 80/20 split and
recommended against actual allocation.

Which areas get a section of their own (the rule; `detail_areas`):

1. `BOLIGSOCIAL_REPORT_AREAS` (area ids) and/or `BOLIGSOCIAL_REPORT_MUNICIPALITY`
   (municipality codes, e.g. `330`), comma separated: exactly those areas (the union).
   Municipalities are read from the marts' `municipality_code` column when present,
   otherwise from `reference/areas.csv` of the sources folder (`BOLIGSOCIAL_SOURCES_DIR`).
2. Otherwise every area when there are at most `BOLIGSOCIAL_REPORT_MAX_AREAS` (default 30).
3. Otherwise (national scale) the `BOLIGSOCIAL_REPORT_MAX_AREAS` areas with the most severe
   status on the official list in the latest data year (then most residents, then name).

With more areas than `BOLIGSOCIAL_REPORT_MAX_AREAS` the first page is condensed, as 250 lines
or rows per chart are unreadable: key points count the areas per category instead of naming
them, the list status becomes the number of areas per list level and year (plus a year-by-area
grid for the detail areas), tryghedsindeks shows the median and the 10–90 % range of the areas
against Denmark and all udsatte areas, and the allocation is one point per area (recommended
against actual budget). The overview table keeps one row per area, always.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import os
from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd
from plotly.offline import get_plotlyjs

from configuration import settings

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
# Which areas get a section of their own (see the module docstring).
AREAS_VARIABLE = "BOLIGSOCIAL_REPORT_AREAS"
MUNICIPALITY_VARIABLE = "BOLIGSOCIAL_REPORT_MUNICIPALITY"
MAX_AREAS_VARIABLE = "BOLIGSOCIAL_REPORT_MAX_AREAS"
MAX_DETAIL_AREAS = 30
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
    """_true for every value (vectorised: NULL, None and NaN become False)."""
    return series.fillna(False).astype(bool)


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
            ids |= set(frame["area_id"].dropna().unique())
        ids.discard(ALL_AREAS)
        marts.area_names = {a: names.get(a, a) for a in sorted(ids, key=lambda a: names.get(a, a))}
        residents = marts.metrics[marts.metrics["metric"] == "residents"]
        for area_id, year, value in residents[["area_id", "year", "value"]].itertuples(index=False):
            marts._residents.setdefault((area_id, int(year)), value)
        official = marts.official(marts.list_status)
        latest = official["year"] == official.groupby("area_id")["year"].transform("max")
        for row in _rows(official[latest]):
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
            years = columns["year"]
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
            rows = self.recommendation.merge(totals[["year", "total"]], on="year", how="left")
            self._cache["allocation"] = rows.assign(
                actual_budget_dkk=rows["actual_share"] * rows["total"]
            )
        return self._cache["allocation"]

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


@lru_cache(maxsize=32)
def _row_type(columns: tuple[str, ...]) -> type:
    return namedtuple("Row", columns, rename=True)


def _rows(frame: pd.DataFrame) -> list:
    """frame.itertuples(index=False), without building a namedtuple class per call."""
    make = _row_type(tuple(frame.columns))._make
    return [
        make(values) for values in zip(*(frame[c].tolist() for c in frame.columns), strict=True)
    ]


def area_municipalities(marts: Marts) -> dict[str, str]:
    """area_id -> municipality code: from the marts when they carry it, else from
    reference/areas.csv of the sources folder (empty when neither is there)."""
    if "municipality_code" in marts.metrics.columns:
        rows = marts.metrics[["area_id", "municipality_code"]].dropna().drop_duplicates("area_id")
        return {a: _code(c) for a, c in rows.itertuples(index=False)}
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


def _env_list(variable: str) -> list[str]:
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
    areas = list(_env_list(AREAS_VARIABLE) if areas is None else areas)
    municipalities = list(
        _env_list(MUNICIPALITY_VARIABLE) if municipalities is None else municipalities
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
        level = _category_level(marts.latest_status(area_id).status)
        if level > 0:
            residents = marts.residents(area_id, year)
            ranked.append((-level, -(0 if _missing(residents) else residents), area_id))
    chosen = {
        a
        for *_, a in sorted(ranked, key=lambda r: (r[0], r[1], marts.area_names[r[2]]))[:max_areas]
    }
    return [a for a in marts.area_names if a in chosen]


# --- Figures (plain plotly JSON) ---------------------------------------------------------

# A slim version of plotly_white: the full template is large, and copying it into every
# figure dominated the report's build time.
TEMPLATE = {
    "layout": {
        "colorway": [BLUE, ORANGE, "#6a3d9a", "#2a9d8f", "#b15928", "#1b9e77"],
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
        "yaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
    }
}
Figure = dict  # {"data": [trace, ...], "layout": {...}}, as plotly.js takes it


def _list(values: Iterable) -> list:
    """Plain JSON values: numpy scalars as Python numbers, NaN/NA as null."""
    out = []
    for value in values:
        if _missing(value):
            out.append(None)
        elif isinstance(value, np.integer):
            out.append(int(value))
        elif isinstance(value, np.floating):
            out.append(float(value))
        elif isinstance(value, np.bool_):
            out.append(bool(value))
        else:
            out.append(value)
    return out


def _merge(target: dict, update: Mapping) -> dict:
    """Nested update, as plotly's update_layout: dicts merge, other values replace."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return target


def _figure(*traces: dict, layout: dict | None = None) -> Figure:
    return {
        "data": list(traces),
        "layout": layout if layout is not None else {"template": TEMPLATE},
    }


def _axes(figure: Figure, letter: str) -> list[dict]:
    """Every x (or y) axis of the figure's layout, creating the first if there is none."""
    layout = figure["layout"]
    keys = [k for k in layout if k == f"{letter}axis" or k[: len(letter) + 4] == f"{letter}axis"]
    if not keys:
        layout[f"{letter}axis"] = {}
        keys = [f"{letter}axis"]
    return [layout[k] for k in keys]


def _update_axes(figure: Figure, letter: str, **props) -> None:
    for axis in _axes(figure, letter):
        _merge(axis, props)


def _title(text: str) -> dict:
    return {"text": text}


def _layout(figure: Figure, height: int = 380, **extra) -> Figure:
    _merge(
        figure["layout"],
        {
            "legend": {"orientation": "h", "y": -0.15, "x": 0},
            "height": height,
            "separators": ",.",
            "font": {"family": FONT, "size": 13},
            "hoverlabel": {"font": {"family": FONT}},
        }
        | ({"margin": {"l": 60, "r": 20, "t": 30, "b": 40}} | extra),
    )
    _update_axes(figure, "y", automargin=True)
    _update_axes(figure, "x", automargin=True)
    return figure


def _year_axis(figure: Figure, years: list[int], **kwargs) -> None:
    _update_axes(
        figure, "x", tickmode="array", tickvals=years, ticktext=[str(y) for y in years], **kwargs
    )


def _grid(
    rows: int, cols: int, titles: Sequence[str], vertical_spacing: float, horizontal_spacing: float
) -> Figure:
    """A figure with a grid of x/y subplots, numbered row by row from the top, and a title
    above each: the layout plotly's make_subplots gives, to the float (make_subplots imports
    plotly.graph_objects, about 0.1 s of every report build)."""
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    layout: dict = {"template": TEMPLATE}
    annotations = []
    for index in range(rows * cols):
        above, col = divmod(index, cols)
        below = rows - 1 - above
        x0 = sum([width] * col) + col * horizontal_spacing
        x1 = x0 + width
        y0 = sum([height] * below) + below * vertical_spacing
        y1 = min(1.0, y0 + height)
        layout[_axis_key("x", index + 1)] = {
            "anchor": _axis_ref("y", index + 1),
            "domain": [max(0.0, x0), min(1.0, x1)],
        }
        layout[_axis_key("y", index + 1)] = {
            "anchor": _axis_ref("x", index + 1),
            "domain": [max(0.0, y0), y1],
        }
        if index < len(titles) and titles[index]:
            annotations.append(
                {
                    "font": {"size": 16},
                    "showarrow": False,
                    "text": titles[index],
                    "x": (x0 + x1) / 2.0,
                    "xanchor": "center",
                    "xref": "paper",
                    "y": y1,
                    "yanchor": "bottom",
                    "yref": "paper",
                }
            )
    if annotations:
        layout["annotations"] = annotations
    return _figure(layout=layout)


def _axis_ref(letter: str, index: int) -> str:
    return letter if index == 1 else f"{letter}{index}"


def _axis_key(letter: str, index: int) -> str:
    return f"{letter}axis" if index == 1 else f"{letter}axis{index}"


def _level_colorscale() -> list:
    n = len(LEVELS)
    colorscale = []
    for level, (_, color) in enumerate(LEVELS):
        colorscale += [[level / n, color], [(level + 1) / n, color]]
    return colorscale


def status_heatmap(rows: Sequence, row_key: str, row_labels: dict[str, str]) -> Figure:
    """Status per (row, year): rulesets of one area, or the areas under the rules in force.
    rows: area_list_status rows (named tuples)."""
    years = sorted({r.year for r in rows})
    present = {getattr(r, row_key) for r in rows}
    keys = [k for k in row_labels if k in present]
    cells = {(getattr(r, row_key), r.year): r for r in rows}
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
            z_row.append(_category_level(row.status))
            text_row.append(CELL_ABBREVIATIONS.get(row.status, row.status))
            force = (
                "gældende regler"
                if _true(row.in_force)
                else "beregnet med reglerne for sammenligning"
            )
            hover_row.append(
                f"{row_labels[key]}, {year}<br><b>{_e(row.status_label_da)}</b><br>"
                f"{_ruleset_label(row.ruleset)} ({force})"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    n = len(LEVELS)
    figure = _figure(
        {
            "type": "heatmap",
            "z": z,
            "x": [str(y) for y in years],
            "y": [row_labels[k] for k in keys],
            "text": text,
            "texttemplate": "%{text}",
            "customdata": hover,
            "hovertemplate": "%{customdata}<extra></extra>",
            "zmin": -0.5,
            "zmax": n - 0.5,
            "colorscale": _level_colorscale(),
            "xgap": 2,
            "ygap": 2,
            "colorbar": {
                "tickvals": list(range(n)),
                "ticktext": [label for label, _ in LEVELS],
                "thickness": 14,
                "len": 1.0,
            },
        }
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
        if row_key == "ruleset" and (key, year) in cells and _true(cells[key, year].in_force)
    ]
    if frames:
        figure["layout"]["shapes"] = frames
    _layout(figure, height=110 + 42 * len(keys), margin={"l": 110, "r": 20, "t": 20, "b": 40})
    _update_axes(figure, "y", autorange="reversed")
    _update_axes(figure, "x", type="category")
    return figure


def status_count_figure(official: pd.DataFrame) -> Figure | None:
    """Number of areas per list level and year under the rules in force (national scale)."""
    if official.empty:
        return None
    levels = official["status"].map(_category_level)
    counts = pd.crosstab(official["year"].astype(int), levels)
    years = [int(y) for y in counts.index]
    traces = []
    for level, (label, color) in enumerate(LEVELS):
        if level not in counts.columns:
            continue
        traces.append(
            {
                "type": "bar",
                "x": years,
                "y": _list(counts[level]),
                "name": label,
                "marker": {"color": color},
                "hovertemplate": "%{x}: %{y} områder<extra>" + _e(label) + "</extra>",
            }
        )
    figure = _figure(*traces)
    _layout(figure, barmode="stack")
    _update_axes(figure, "y", title=_title("antal områder"), tickformat=",.0f")
    _year_axis(figure, years)
    return figure


def criteria_figure(marts: Marts, area_id: str) -> Figure | None:
    rows = marts.records("criteria", area_id, official=True)
    if not rows:
        return None
    present = {r.criterion for r in rows}
    criteria = [c for c in CRITERIA if c in present]
    criteria += sorted(present - set(criteria))
    columns = 2
    n_rows = (len(criteria) + columns - 1) // columns
    figure = _grid(
        n_rows,
        columns,
        [_criterion_label(c) for c in criteria],
        vertical_spacing=0.38 / n_rows,
        horizontal_spacing=0.1,
    )
    shown: set[str] = set()
    years = sorted({int(r.year) for r in rows})
    for index, criterion in enumerate(criteria):
        axis = index + 1  # _grid numbers the axes row by row
        refs = {"xaxis": _axis_ref("x", axis), "yaxis": _axis_ref("y", axis)}
        chosen = [r for r in rows if r.criterion == criterion]
        chosen = _quicksorted(chosen, [r.year for r in chosen])
        metric = chosen[0].metric
        money = metric in MONEY_METRICS
        # Categories share the value of a criterion (same window): one line of values.
        values = _first_per_year(r for r in chosen if not _missing(r.value))
        figure["data"].append(
            {
                "type": "scatter",
                "x": [int(r.year) for r in values],
                "y": _list(r.value for r in values),
                "mode": "lines+markers",
                "name": "Områdets værdi",
                "legendgroup": "value",
                "showlegend": "value" not in shown,
                "line": {"color": BLUE, "width": 2.5},
                "marker": {
                    "color": [RED if _true(r.met) else BLUE for r in values],
                    "size": 9,
                    "line": {"color": "white", "width": 1},
                },
                "hovertemplate": (
                    "%{x}: %{y:,.0f} kr.<extra>Værdi</extra>"
                    if money
                    else "%{x}: %{y:.2%}<extra>Værdi</extra>"
                ),
            }
            | refs
        )
        shown.add("value")
        by_category: dict[str, list] = {}
        for r in chosen:
            by_category.setdefault(r.category, []).append(r)
        for category, threshold_rows in by_category.items():
            label = f"Grænse: {_category_label(category)}"
            points = _first_per_year(threshold_rows)
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": [int(r.year) for r in points],
                    "y": _list(r.threshold for r in points),
                    "mode": "lines",
                    "line": {
                        "color": CATEGORY_COLORS.get(category, GREY),
                        "dash": "dash",
                        "shape": "hvh",
                        "width": 1.8,
                    },
                    "name": label,
                    "legendgroup": label,
                    "showlegend": label not in shown,
                    "customdata": [
                        f"{OPERATORS.get(op, op)} {_metric_value(metric, r.threshold)}"
                        for r in points
                        for op in [r.operator]
                    ],
                    "hovertemplate": "%{x}: %{customdata}<extra>" + _e(label) + "</extra>",
                }
                | refs
            )
            shown.add(label)
        _merge(
            figure["layout"].setdefault(_axis_key("y", axis), {}),
            {"tickformat": ",.0f" if money else ".0%", "rangemode": "tozero"},
        )
    _layout(figure, height=300 * n_rows + 60, margin={"l": 60, "r": 20, "t": 50, "b": 40})
    _merge(figure["layout"], {"legend": {"y": -0.4 / n_rows}})
    for annotation in figure["layout"].get("annotations", []):
        _merge(annotation, {"font": {"size": 13}})
    _year_axis(figure, years[:: max(1, len(years) // 8)])
    return figure


def _quicksorted(rows: list, keys: list, ascending: bool = True) -> list:
    """rows in the order pandas' sort_values on keys (no NaN) gives them: numpy's quicksort,
    which is not stable, so ties come out as they did when the report sorted with pandas."""
    keys = np.array(keys)
    if ascending:
        order = np.argsort(keys, kind="quicksort")
    else:  # pandas sorts the reversed keys and reverses the result
        order = (len(keys) - 1 - np.argsort(keys[::-1], kind="quicksort"))[::-1]
    return [rows[k] for k in order]


def _first_per_year(rows: Iterable) -> list:
    """The first row of each year (as drop_duplicates("year"))."""
    seen: set[int] = set()
    first = []
    for row in rows:
        if row.year not in seen:
            seen.add(row.year)
            first.append(row)
    return first


@dataclass
class ExitRoute:
    category: str
    text: str
    persons: float | None  # persons for the cheapest way out of the category, if reachable


def exit_routes(marts: Marts, area_id: str, year: int) -> list[ExitRoute]:
    """What it takes, in year `year`, for the area to stop qualifying for each category it is in."""
    status = [
        r for r in marts.records("status", area_id, year, official=True) if _true(r.qualifies)
    ]
    criteria = marts.records("criteria", area_id, year, official=True)
    routes = []
    for row in sorted(status, key=lambda r: r.category):
        own = [c for c in criteria if c.category == row.category]
        count = [c for c in own if c.role == "count" and _true(c.met)]
        gates = [c for c in own if c.role == "gate" and _true(c.met)]
        label = _category_label(row.category)
        parts, best = [], None
        if count and not _missing(row.criteria_required):
            needed = int(row.criteria_met) - int(row.criteria_required) + 1
            # Fewest persons first (unknown last); ties keep the mart's order.
            cheapest = sorted(count, key=_persons_key)[:needed]
            names = [
                f"{_criterion_label(c.criterion).lower()} ({_exit_persons(c)})" for c in cheapest
            ]
            parts.append(
                f"{int(row.criteria_met)} kriterier er opfyldt, og "
                f"{int(row.criteria_required)} kræves: {needed} "
                f"{'kriterium' if needed == 1 else 'kriterier'} skal under grænsen. "
                f"Billigst: {' og '.join(names)}"
            )
            if all(not _missing(c.persons_to_exit) for c in cheapest):
                best = float(sum(c.persons_to_exit for c in cheapest))
                parts[-1] += f", i alt {_persons(best)}"
        for gate in gates:
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


def _persons_key(criterion) -> tuple[bool, float]:
    missing = _missing(criterion.persons_to_exit)
    return (missing, 0.0 if missing else criterion.persons_to_exit)


def _exit_persons(criterion) -> str:
    if not _missing(criterion.persons_to_exit):
        return _persons(criterion.persons_to_exit)
    if criterion.metric in MONEY_METRICS:
        return "opgøres ikke i personer"
    return "kan ikke nås alene med ét års udvikling"


def persons_to_exit_figure(marts: Marts, area_id: str, year: int) -> Figure | None:
    rows = [
        r
        for r in marts.records("criteria", area_id, year, official=True)
        if _true(r.met) and not _missing(r.persons_to_exit)
    ]
    if not rows:
        return None
    rows = _quicksorted(rows, [r.persons_to_exit for r in rows], ascending=False)
    persons = [r.persons_to_exit for r in rows]
    figure = _figure(
        {
            "type": "bar",
            "x": _list(persons),
            "y": [f"{_category_label(r.category)}: {_criterion_label(r.criterion)}" for r in rows],
            "orientation": "h",
            "marker": {"color": [CATEGORY_COLORS.get(r.category, GREY) for r in rows]},
            "text": [_persons(p) for p in persons],
            "textposition": "auto",
            "hovertemplate": "%{y}<br>%{x:,.0f} personer<extra></extra>",
        }
    )
    _layout(figure, height=90 + 44 * len(rows), margin={"l": 20, "r": 20, "t": 20, "b": 40})
    _update_axes(figure, "y", automargin=True)
    _update_axes(
        figure,
        "x",
        title=_title("personer der skal ud af kriteriets gruppe"),
        rangemode="tozero",
    )
    return figure


BENCHMARKS = (
    ("national_index", "Hele landet", GREEN),
    ("udsatte_average_index", "Alle udsatte områder", GREY),
)


def _benchmark_traces(rows: Sequence) -> list[dict]:
    """rows: area_safety rows (named tuples) by year."""
    benchmarks = _first_per_year(rows)
    traces = []
    for column, label, color in BENCHMARKS:
        points = [r for r in benchmarks if not _missing(getattr(r, column))]
        if points:
            traces.append(
                {
                    "type": "scatter",
                    "x": [r.year for r in points],
                    "y": _list(getattr(r, column) for r in points),
                    "name": label,
                    "mode": "lines",
                    "line": {"color": color, "dash": "dash", "width": 2},
                    "hovertemplate": "%{x}: %{y:.1f}<extra>" + label + "</extra>",
                }
            )
    return traces


def safety_index_figure(safety: Sequence, area_names: dict[str, str]) -> Figure | None:
    """safety: area_safety rows (named tuples)."""
    rows = [r for r in safety if r.area_id in area_names]
    rows = _quicksorted(rows, [r.year for r in rows])
    columns = ("tryghedsindeks", "national_index", "udsatte_average_index")
    if all(_missing(getattr(r, c)) for r in rows for c in columns):
        return None
    figure = _figure()
    palette = [BLUE, ORANGE, "#6a3d9a", "#2a9d8f", "#b15928", "#1b9e77"]
    by_area: dict[str, list] = {}
    for r in rows:
        if not _missing(r.tryghedsindeks):
            by_area.setdefault(r.area_id, []).append(r)
    for index, (area_id, name) in enumerate(area_names.items()):
        area = by_area.get(area_id)
        if area:
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": [r.year for r in area],
                    "y": _list(r.tryghedsindeks for r in area),
                    "name": name,
                    "mode": "lines+markers",
                    "line": {"color": palette[index % len(palette)], "width": 2.5},
                    "hovertemplate": "%{x}: %{y:.1f}<extra>" + _e(name) + "</extra>",
                }
            )
    figure["data"] += _benchmark_traces(rows)
    _layout(figure)
    _update_axes(figure, "y", title=_title("tryghedsindeks"))
    _year_axis(figure, sorted({r.year for r in rows}))
    return figure


def safety_spread_figure(safety: pd.DataFrame, area_names: Mapping[str, str]) -> Figure | None:
    """Tryghedsindeks of many areas: their median and 10–90 % range against the benchmarks."""
    rows = safety[safety["area_id"].isin(area_names)].sort_values("year")
    if rows[["tryghedsindeks", "national_index", "udsatte_average_index"]].notna().sum().sum() == 0:
        return None
    measured = rows[rows["tryghedsindeks"].notna()].groupby("year")["tryghedsindeks"]
    spread = pd.DataFrame(
        {
            "low": measured.quantile(0.1),
            "median": measured.median(),
            "high": measured.quantile(0.9),
            "areas": measured.count(),
        }
    )
    years = [int(y) for y in spread.index]
    figure = _figure()
    if len(spread):
        band = "Områderne: 10–90 %"
        figure["data"] += [
            {
                "type": "scatter",
                "x": years,
                "y": _list(spread["low"]),
                "mode": "lines",
                "line": {"width": 0},
                "legendgroup": band,
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": years,
                "y": _list(spread["high"]),
                "mode": "lines",
                "fill": "tonexty",
                "fillcolor": "rgba(31, 95, 168, 0.15)",
                "line": {"width": 0},
                "name": band,
                "legendgroup": band,
                "customdata": [
                    f"{da_number(lo, 1)}–{da_number(hi, 1)}"
                    for lo, hi in zip(spread["low"], spread["high"], strict=True)
                ],
                "hovertemplate": "%{x}: %{customdata}<extra>" + band + "</extra>",
            },
            {
                "type": "scatter",
                "x": years,
                "y": _list(spread["median"]),
                "mode": "lines+markers",
                "name": "Områderne: median",
                "line": {"color": BLUE, "width": 2.5},
                "customdata": _list(spread["areas"]),
                "hovertemplate": "%{x}: %{y:.1f} (%{customdata} områder)<extra>Median</extra>",
            },
        ]
    figure["data"] += _benchmark_traces(_rows(rows))
    _layout(figure)
    _update_axes(figure, "y", title=_title("tryghedsindeks"))
    _year_axis(figure, sorted(int(y) for y in rows["year"].unique()))
    return figure


def _sum(values: Iterable) -> float:
    """Σ values with NULL as 0, added up as pandas' fillna(0).sum() does (numpy's pairwise
    sum): credit lines can make a year's vandalism cost negative, so 0 is not "no values"."""
    return np.sum([0.0 if _missing(v) else v for v in values])


def vandalism_figure(safety: Sequence) -> Figure | None:
    """safety: area_safety rows (named tuples) of one area."""
    rows = _quicksorted(safety, [r.year for r in safety])
    if _sum(r.vandalism_cost_dkk for r in rows) == 0:
        return None
    # The layout of make_subplots(specs=[[{"secondary_y": True}]]): 6 % kept for the right axis.
    figure = _figure(
        layout={
            "template": TEMPLATE,
            "xaxis": {"anchor": "y", "domain": [0.0, 0.94]},
            "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
            "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
        }
    )
    figure["data"] += [
        {
            "type": "bar",
            "x": [r.year for r in rows],
            "y": _list(r.vandalism_cost_per_dwelling_dkk for r in rows),
            "name": "Udgift pr. bolig",
            "marker": {"color": ORANGE},
            "customdata": [[da_kroner(r.vandalism_cost_dkk), da_number(r.dwellings)] for r in rows],
            "hovertemplate": (
                "%{x}: %{y:,.0f} kr. pr. bolig<br>i alt %{customdata[0]}, "
                "%{customdata[1]} boliger<extra></extra>"
            ),
            "xaxis": "x",
            "yaxis": "y",
        },
        {
            "type": "scatter",
            "x": [r.year for r in rows],
            "y": _list(r.vandalism_cases for r in rows),
            "name": "Sager",
            "mode": "lines+markers",
            "line": {"color": GREY},
            "hovertemplate": "%{x}: %{y} sager<extra></extra>",
            "xaxis": "x",
            "yaxis": "y2",
        },
    ]
    _layout(figure)
    _merge(figure["layout"]["yaxis"], {"title": _title("kr. pr. bolig"), "tickformat": ",.0f"})
    _merge(
        figure["layout"]["yaxis2"],
        {
            "title": _title("sager"),
            "rangemode": "tozero",
            "tickformat": ",.0f",
            "showgrid": False,
        },
    )
    _year_axis(figure, [r.year for r in rows])
    return figure


def incidents_figure(safety: Sequence) -> Figure | None:
    """safety: area_safety rows (named tuples) of one area."""
    rows = _quicksorted(safety, [r.year for r in safety])
    if _sum(v for r in rows for v in (r.police_incidents, r.arson_incidents)) == 0:
        return None
    figure = _figure()
    for column, label, color in (
        ("police_incidents", "Anmeldelser i alt", BLUE),
        ("arson_incidents", "Heraf påsatte brande", RED),
    ):
        figure["data"].append(
            {
                "type": "bar",
                "x": [r.year for r in rows],
                "y": _list(getattr(r, column) for r in rows),
                "name": label,
                "marker": {"color": color},
                "hovertemplate": "%{x}: %{y}<extra>" + label + "</extra>",
            }
        )
    _layout(figure, height=320, barmode="group")
    _year_axis(figure, [r.year for r in rows])
    return figure


def split_figure(split: Sequence) -> Figure | None:
    """split: allocation_8020 rows (named tuples) of one area (or of all areas together)."""
    rows = [r for r in split if not _missing(r.share_drift)]
    rows = _quicksorted(rows, [r.year for r in rows])
    if not rows:
        return None
    years = [r.year for r in rows]
    shares = [r.share_drift for r in rows]
    figure = _figure()
    figure["layout"]["shapes"] = [
        {
            "fillcolor": GREEN,
            "line": {"width": 0},
            "opacity": 0.12,
            "type": "rect",
            "x0": 0,
            "x1": 1,
            "xref": "x domain",
            "y0": TARGET_SHARE_DRIFT - TOLERANCE_PP / 100,
            "y1": TARGET_SHARE_DRIFT + TOLERANCE_PP / 100,
            "yref": "y",
        }
    ]
    figure["data"] += [
        {
            "type": "bar",
            "x": years,
            "y": _list(shares),
            "name": "Drift (varige indsatser)",
            "marker": {
                "color": BLUE,
                "line": {
                    "color": [BLUE if _true(r.within_tolerance) else RED for r in rows],
                    "width": 3,
                },
            },
            "text": [da_percent(s, 0) for s in shares],
            "textposition": "inside",
            "customdata": [
                [da_kroner(r.budget_drift_dkk), da_number(r.deviation_pp, 1)] for r in rows
            ],
            "hovertemplate": (
                "%{x}: drift %{y:.1%} (%{customdata[0]})<br>"
                "afvigelse fra målet %{customdata[1]} procentpoint<extra></extra>"
            ),
        },
        {
            "type": "bar",
            "x": years,
            "y": _list(1 - s for s in shares),
            "name": "Projekt (midlertidige indsatser)",
            "marker": {"color": "#9ecae1"},
            "customdata": [da_kroner(r.budget_projekt_dkk) for r in rows],
            "hovertemplate": "%{x}: projekt %{y:.1%} (%{customdata})<extra></extra>",
        },
        {
            "type": "scatter",
            "x": [years[0] - 0.5, years[-1] + 0.5],
            "y": [TARGET_SHARE_DRIFT] * 2,
            "mode": "lines",
            "name": "Mål: 80 % drift (±5 procentpoint)",
            "line": {"color": GREEN, "dash": "dash", "width": 2},
            "hoverinfo": "skip",
        },
    ]
    _layout(figure, barmode="stack")
    _update_axes(figure, "y", tickformat=".0%", range=[0, 1])
    _year_axis(figure, years)
    return figure


def allocation_figure(rows: Sequence, x: Sequence, x_is_year: bool) -> Figure | None:
    """Actual against recommended (need-based) budget; rows: Marts.allocation rows (named
    tuples)."""
    if not rows:
        return None
    x = _list(x)
    figure = _figure(
        {
            "type": "bar",
            "x": x,
            "y": _list(r.actual_budget_dkk for r in rows),
            "name": "Faktisk budget",
            "marker": {"color": BLUE},
            "customdata": [da_percent(r.actual_share) for r in rows],
            "hovertemplate": "%{x}: %{y:,.0f} kr. (%{customdata} af budgettet)"
            "<extra>Faktisk</extra>",
        }
    )
    recommended = [r.recommended_budget_dkk for r in rows]
    if not all(_missing(v) for v in recommended):
        figure["data"].append(
            {
                "type": "bar",
                "x": x,
                "y": _list(recommended),
                "name": "Anbefalet efter behov",
                "marker": {"color": ORANGE},
                "customdata": [da_percent(r.need_share) for r in rows],
                "hovertemplate": (
                    "%{x}: %{y:,.0f} kr. (%{customdata} af behovet)<extra>Anbefalet</extra>"
                ),
            }
        )
    _layout(figure, barmode="group")
    _update_axes(figure, "y", title=_title("kr."), tickformat=",.0f")
    if x_is_year:
        _year_axis(figure, [int(y) for y in x])
    return figure


def allocation_scatter(rows: pd.DataFrame) -> Figure | None:
    """One point per area: recommended (need-based) against actual budget (national scale)."""
    rows = rows.dropna(subset=["recommended_budget_dkk", "actual_budget_dkk"])
    if rows.empty:
        return None
    top = float(max(rows["recommended_budget_dkk"].max(), rows["actual_budget_dkk"].max()))
    under = rows["actual_budget_dkk"] < rows["recommended_budget_dkk"]
    figure = _figure(
        {
            "type": "scatter",
            "x": [0, top],
            "y": [0, top],
            "mode": "lines",
            "name": "Faktisk = anbefalet",
            "line": {"color": GREY, "dash": "dash", "width": 1.5},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": _list(rows["recommended_budget_dkk"]),
            "y": _list(rows["actual_budget_dkk"]),
            "mode": "markers",
            "name": "Område (orange: under det anbefalede)",
            "marker": {
                "color": [ORANGE if u else BLUE for u in under],
                "size": 8,
                "opacity": 0.8,
                "line": {"color": "white", "width": 0.5},
            },
            "customdata": _list(rows["name"]),
            "hovertemplate": "<b>%{customdata}</b><br>anbefalet %{x:,.0f} kr.<br>"
            "faktisk %{y:,.0f} kr.<extra></extra>",
        },
    )
    _layout(figure, height=460, legend={"orientation": "h", "y": -0.22, "x": 0})
    _update_axes(figure, "x", title=_title("anbefalet efter behov (kr.)"), tickformat=",.0f")
    _update_axes(figure, "y", title=_title("faktisk budget (kr.)"), tickformat=",.0f")
    return figure


# --- HTML --------------------------------------------------------------------------------

_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _json(value: object) -> str:
    """JSON that is safe inside <script> (no `</script>`, no `<!--`)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # str.replace per character, not str.translate: ten times faster on the charts' megabytes.
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return text


CONFIG_JSON = _json(PLOTLY_CONFIG)


@dataclass
class Page:
    charts: int = 0
    parts: list[str] = field(default_factory=list)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def chart(self, title: str, figure: Figure | None, note: str = "", empty: str = "") -> None:
        if figure is None:
            self.add(
                f'<figure class="chart-box"><figcaption>{_e(title)}</figcaption>'
                f'<p class="empty">{_e(empty or "Ingen data.")}</p></figure>'
            )
            return
        self.charts += 1
        div_id = f"chart-{self.charts}"
        height = figure["layout"].get("height")
        div = (
            f'<div style="height:{f"{height}px" if height else "100%"}; width:100%;">'
            f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;">'
            f'</div><script>Plotly.newPlot("{div_id}",{_json(figure["data"])},'
            f"{_json(figure['layout'])},{CONFIG_JSON});</script></div>"
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


def _latest_by_area(frame: pd.DataFrame, column: str) -> dict[str, tuple[int, object]]:
    """area_id -> (year, value) of its latest year with a value (_latest for every area)."""
    rows = frame.dropna(subset=[column]).sort_values("year", kind="stable")
    rows = rows.groupby("area_id", sort=False).tail(1)
    return {
        a: (int(y), v)
        for a, y, v in zip(rows["area_id"], rows["year"], rows[column].tolist(), strict=True)
    }


def _status_badge(category: str, label: str) -> str:
    color = LEVELS[_category_level(category)][1]
    dark = _category_level(category) >= 3
    return (
        f'<span class="badge" style="background:{color};color:{"#fff" if dark else "#222"}">'
        f"{_e(label)}</span>"
    )


def overview(
    page: Page, marts: Marts, detail: Sequence[str], compact: bool = False, rule: str = ""
) -> None:
    """The first page: the whole picture. `compact` (many areas): counts and spreads instead of
    one line per area in the key points and charts; the table keeps one row per area."""
    year = marts.latest_year()
    official = marts.official(marts.list_status)
    points = []
    if year is not None:
        now = official[official["year"] == year]
        listed = now[now["status"] != "none"]
        ruleset = _ruleset_label(marts.ruleset_in_force[year])
        if listed.empty:
            points.append(f"I {year} er ingen af områderne på en liste ({ruleset}).")
        elif compact:
            counts = listed.assign(level=listed["status"].map(_category_level))
            counts = counts.groupby(["level", "status_label_da"]).size().sort_index(ascending=False)
            points.append(
                f"I {year} er {len(listed)} af {len(marts.area_names)} områder på en liste efter "
                f"de gældende regler ({ruleset}): "
                + ", ".join(f"{_e(label)} {n}" for (_, label), n in counts.items())
                + " (se tabellen)."
            )
        else:
            names = [
                f"{_e(marts.area_names.get(r.area_id, r.area_id))} ({_e(r.status_label_da)})"
                for r in listed.itertuples(index=False)
            ]
            points.append(
                f"I {year} er {len(names)} af {len(marts.area_names)} områder på en liste efter de "
                f"gældende regler ({ruleset}): {', '.join(names)}."
            )
        ever = sorted(set(official[official["status"] != "none"]["area_id"]))
        if ever:
            since = f"På en liste i mindst ét år siden {int(official['year'].min())}: "
            points.append(
                since
                + (
                    f"{len(ever)} af {len(marts.area_names)} områder"
                    if compact
                    else ", ".join(_e(marts.area_names.get(a, a)) for a in ever)
                )
                + ". Visionen er, at intet område er på listen efter 2025."
            )
    safety = marts.safety[marts.safety["area_id"].isin(marts.area_names)]
    index_year, _ = _latest(safety, "tryghedsindeks")
    if index_year is not None:
        rows = safety[(safety["year"] == index_year) & safety["tryghedsindeks"].notna()]
        first = rows.iloc[0]
        if compact:
            areas = (
                f"median for {len(rows)} områder {da_number(rows['tryghedsindeks'].median(), 1)} "
                f"(fra {da_number(rows['tryghedsindeks'].min(), 1)} til "
                f"{da_number(rows['tryghedsindeks'].max(), 1)})"
            )
        else:
            areas = ", ".join(
                f"{_e(marts.area_names[r.area_id])} {da_number(r.tryghedsindeks, 1)}"
                for r in rows.itertuples(index=False)
            )
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
    if len(detail) < len(marts.area_names):
        points.append(
            f"Rapporten har en side for {len(detail)} af de {len(marts.area_names)} områder "
            f"({_e(rule or 'de valgte områder')}); tabellen nedenfor har dem alle."
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
    detailed = set(detail)
    latest_index = _latest_by_area(marts.safety, "tryghedsindeks")
    latest_cost = _latest_by_area(
        marts.safety[marts.safety["vandalism_cost_dkk"].fillna(0) > 0],
        "vandalism_cost_per_dwelling_dkk",
    )
    latest_share = _latest_by_area(marts.split, "share_drift")
    table_rows = []
    for area_id, name in marts.area_names.items():
        area_year = marts.latest_year(area_id)
        status_cell, exit_cell = "–", "–"
        if area_year is not None:
            row = marts.latest_status(area_id)
            status_cell = f"{_status_badge(row.status, row.status_label_da)} ({area_year})"
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
        index_year, index = latest_index.get(area_id, (None, None))
        cost_year, cost = latest_cost.get(area_id, (None, None))
        share_year, share = latest_share.get(area_id, (None, None))
        residents = marts.residents(area_id, area_year) if area_year is not None else None
        table_rows.append(
            [
                f'<a href="#{_e(area_id)}">{_e(name)}</a>' if area_id in detailed else _e(name),
                da_number(residents),
                status_cell,
                exit_cell,
                f"{da_number(index, 1)} ({index_year})" if index_year else "–",
                f"{da_kroner(cost)} ({cost_year})" if cost_year else "–",
                f"{da_percent(share, 0)} ({share_year})" if share_year else "–",
            ]
        )
    if compact and detail:
        page.add(
            '<p id="omraadesider" class="area-links"><b>Områder med egen side:</b> '
            + " · ".join(f'<a href="#{_e(a)}">{_e(marts.area_names[a])}</a>' for a in detail)
            + "</p>"
        )
    if compact:
        page.add('<h3 id="omraader">Alle områder</h3>')
    page.add(_table(header, table_rows))
    page.add(
        '<p class="note">“Vej ud af listen”: det mindste antal personer, der skal ud af '
        "kriteriernes grupper i seneste dataår, for at området ikke længere opfylder den mest "
        "krævende af sine kategorier" + (" (se områdets side)" if detail else "") + ".</p>"
    )
    legend = (
        "F = forebyggelsesområde, U = udsat, SU = særligt udsat, G = ghetto, "
        "P = parallelsamfund, HG = hårdt ghetto, O = omdannelsesområde, – = ikke på listen. "
        "Dataåret er statistikkens år; listen offentliggøres 1. december."
    )
    if compact:
        page.chart(
            "Antal områder på listen efter de gældende regler",
            status_count_figure(official),
            note="Dataåret er statistikkens år; listen offentliggøres 1. december.",
        )
        shown = {a: marts.area_names[a] for a in detail}
        rows = official[official["area_id"].isin(shown)]
        if shown:
            page.chart(
                "Listestatus efter de gældende regler: områderne med egen side",
                status_heatmap(_rows(rows), "area_id", shown) if not rows.empty else None,
                note=legend,
            )
        page.chart(
            "Tryghedsindeks: områderne mod hele landet og alle udsatte områder",
            safety_spread_figure(marts.safety, marts.area_names),
            note="Medianen og spændet fra de 10 % laveste til de 10 % højeste af områderne "
            "med en måling i året. Højere er tryggere.",
            empty="Ingen tryghedsmålinger.",
        )
    else:
        page.chart(
            "Listestatus efter de gældende regler",
            status_heatmap(_rows(official), "area_id", marts.area_names)
            if not official.empty
            else None,
            note=legend,
        )
        page.chart(
            "Tryghedsindeks: områderne mod hele landet og alle udsatte områder",
            safety_index_figure(_rows(marts.safety), marts.area_names),
            empty="Ingen tryghedsmålinger.",
        )
    page.chart(
        "80/20: drift og projekt for alle områder samlet",
        split_figure(_rows(totals)),
        note="Målet er, at 80 % af indsatsen styrker varig (primært kommunal) drift og 20 % er "
        "midlertidige projekter. Rød kant: uden for tolerancen på ±5 procentpoint.",
        empty="Ingen indsatsdata.",
    )
    allocation = marts.allocation
    with_need = allocation.dropna(subset=["recommended_budget_dkk"])
    if not with_need.empty:
        need_year = int(with_need["year"].max())
        rows = allocation[allocation["year"] == need_year]
        rows = rows.assign(name=rows["area_id"].map(lambda a: marts.area_names.get(a, a)))
        rows = rows.sort_values("name")
        note = (
            "Anbefalet = områdets andel af det samlede behov (beboere × gennemsnitligt "
            "kriterietryk) × det samlede budget."
        )
        if compact:
            page.chart(
                f"Fordeling af budgettet {need_year}: faktisk og anbefalet efter behov",
                allocation_scatter(rows),
                note=note + " Ét punkt pr. område; under den stiplede linje får området "
                "mindre end anbefalet.",
            )
        else:
            page.chart(
                f"Fordeling af budgettet {need_year}: faktisk og anbefalet efter behov",
                allocation_figure(_rows(rows), rows["name"], x_is_year=False),
                note=note,
            )
    page.add("</section>")


def _detail_rule() -> str:
    """The selection rule in force, in Danish (for the first page)."""
    if _env_list(AREAS_VARIABLE) or _env_list(MUNICIPALITY_VARIABLE):
        return "de valgte områder og kommuner"
    return (
        f"de højst {max_detail_areas()} områder med den mest alvorlige status på listen i "
        "seneste dataår"
    )


def area_section(page: Page, marts: Marts, area_id: str, name: str) -> None:
    page.add(f'<section class="area" id="{_e(area_id)}"><h2>{_e(name)}</h2>')
    year = marts.latest_year(area_id)
    if year is not None:
        row = marts.latest_status(area_id)
        residents = marts.residents(area_id, year)
        page.add(
            f'<p class="lead">Status {year} efter {_ruleset_label(row.ruleset).lower()}: '
            f"{_status_badge(row.status, row.status_label_da)} · "
            f"{da_number(residents)} beboere</p>"
        )
    page.chart(
        "Kriterierne over årene mod grænserne (de gældende regler hvert år)",
        criteria_figure(marts, area_id),
        note="Røde punkter: kriteriet er opfyldt. Værdien er gennemsnittet over kriteriets "
        "vindue (fx 2 år), som reglerne foreskriver; grænserne skifter, når reglerne gør.",
        empty="Ingen statistik for området.",
    )
    rulesets = marts.records("list_status", area_id)
    page.chart(
        "Listestatus år for år efter hvert regelsæt",
        status_heatmap(
            rulesets,
            "ruleset",
            {
                r: _ruleset_label(r)
                for r in sorted({r.ruleset for r in rulesets}, key=_ruleset_order)
            },
        )
        if rulesets
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
    area_safety = marts.records("safety", area_id)
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
        split_figure(marts.records("split", area_id)),
        note="Rød kant: uden for tolerancen (80 % ± 5 procentpoint).",
        empty="Ingen indsatsdata.",
    )
    rows = marts.records("allocation", area_id)
    rows = _quicksorted(rows, [r.year for r in rows])
    page.chart(
        "Faktisk og anbefalet fordeling af budgettet",
        allocation_figure(rows, [r.year for r in rows], x_is_year=True),
        note="Anbefalet efter behov findes kun for år med statistik.",
        empty="Ingen indsatsdata.",
    )
    page.add("</section>")


def _ruleset_order(ruleset: str) -> tuple[int, str]:
    digits = "".join(ch for ch in ruleset if ch.isdigit())
    return (int(digits) if digits else 0, ruleset)


def criteria_table(marts: Marts, area_id: str, year: int) -> str:
    ruleset = marts.ruleset_in_force.get(year)
    rows = sorted(
        marts.records("criteria", area_id, year, official=True),
        key=lambda r: (-_category_level(r.category), r.category, r.role, r.criterion),
    )
    if not rows:
        return ""
    body = []
    for r in rows:
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
    areas: Sequence[str] | None = None,
) -> str:
    """The report as one HTML document, from a connection holding schema `marts` or from frames.

    `areas`: the areas with a section of their own (default: `detail_areas`, from the
    environment)."""
    frames = load_marts(source) if isinstance(source, duckdb.DuckDBPyConnection) else source
    return render(Marts.from_frames(frames), generated_at or datetime.now(), title, areas)[0]


def render(
    marts: Marts,
    generated_at: datetime,
    title: str = TITLE,
    areas: Sequence[str] | None = None,
) -> tuple[str, int]:
    """The HTML document and its number of charts."""
    detail = [a for a in (detail_areas(marts) if areas is None else areas) if a in marts.area_names]
    compact = len(marts.area_names) > max_detail_areas()
    page = Page()
    overview(page, marts, detail, compact, _detail_rule() if areas is None else "")
    for area_id in detail:
        area_section(page, marts, area_id, marts.area_names[area_id])
    years = sorted(marts.ruleset_in_force)
    period = f"Dataår {years[0]}–{years[-1]}" if years else "Ingen dataår"
    links = "".join(f'<a href="#{_e(a)}">{_e(marts.area_names[a])}</a>' for a in detail)
    if compact:  # too many areas for the bar: they are listed on the first page
        links = '<a href="#omraader">Alle områder</a>' + (
            '<a href="#omraadesider">Områder med egen side</a>' if detail else ""
        )
    nav = '<a href="#overblik">Overblik</a>' + links
    sections = f" ({len(detail)} med egen side)" if len(detail) < len(marts.area_names) else ""
    generated = da_date(generated_at)
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
<p>{period} · {len(marts.area_names)} boligområder{sections} · dannet {generated}</p></header>
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
