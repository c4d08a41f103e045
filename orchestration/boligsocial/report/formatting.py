"""Danish numbers, dates and texts: every figure the report prints passes through here, and
plotly.js gets the same conventions (decimal comma, thousands point, Danish month names)."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd

MISSING = "–"
MONTHS_DA = (  # noqa: SIM905
    "januar februar marts april maj juni juli august september oktober november december"
).split()
# plotly's separators: decimal comma, thousands point (d3 formats such as ",.0f" follow it).
SEPARATORS = ",."
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
        "decimal": SEPARATORS[0],
        "thousands": SEPARATORS[1],
    },
}


def missing(value: object) -> bool:
    """NULL as the marts deliver it: None, NaN or pd.NA."""
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def number(value: float | None, decimals: int = 0) -> str:
    if missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def percent(share: float | None, decimals: int | None = None) -> str:
    """A share in [0, 1] as percent: two decimals below 10 %, one above, unless given."""
    if missing(share):
        return MISSING
    if decimals is None:
        decimals = 2 if abs(float(share)) < 0.1 else 1
    return f"{number(float(share) * 100, decimals)} %"


def points(share_difference: float | None, decimals: int = 2) -> str:
    """A difference of two shares in percentage points."""
    if missing(share_difference):
        return MISSING
    return f"{number(float(share_difference) * 100, decimals)} procentpoint"


def kroner(value: float | None) -> str:
    return MISSING if missing(value) else f"{number(value)} kr."


def persons(count: float | None) -> str:
    if missing(count):
        return MISSING
    return "1 person" if int(count) == 1 else f"{number(count)} personer"


def date(moment: datetime) -> str:
    return f"{moment.day}. {MONTHS_DA[moment.month - 1]} {moment.year}"


def label(text: object) -> str:
    """Text from data for a plotly label (axis ticks, legends, hover, annotations): plotly
    renders a subset of HTML there (<a href>, <b>, <br>, ...), so markup in a name must be
    escaped to show as the characters it is. plotly decodes the entities back to text."""
    return html.escape(str(text), quote=False)
