"""The Danish board report: one self-contained HTML file built from the marts (no Dagster).

model.py reads the marts (the list categories too), charts.py draws one plotly figure per chart,
page.py fills templates/report.html.j2, formatting.py writes Danish numbers and dates.
"""

from boligsocial.report.model import Marts, detail_areas, load_marts
from boligsocial.report.page import build_report, render

__all__ = ["Marts", "build_report", "detail_areas", "load_marts", "render"]
