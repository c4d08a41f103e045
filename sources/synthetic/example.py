"""Generate the bundled example sources directory (Slagelse, four housing areas).

The data are synthetic, built so that the marts reproduce the published figures of
the joint boligsocial application 2017–2021 (see sources/example/README.md). Every
random draw comes from a `random.Random` seeded with a fixed string, so running the
generator twice gives byte-identical files.

    uv run python -m sources.synthetic.example [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from boligsocial.sources.catalog import maal_codes

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "example"
YEARS = range(2013, 2025)
LEDGER_YEARS = range(2014, 2025)
MUNICIPALITY = "330"
REGION = "1085"

AREAS = (
    ("RINGPARKEN", "Ringparken", "Slagelse"),
    ("SYDBYEN", "Sydbyen", "Slagelse"),
    ("MOTALAVEJ", "Motalavej", "Korsør"),
    ("PARKVEJ", "Parkvej", "Skælskør"),
)
AREA_NAMES = {area_id: name for area_id, name, _ in AREAS}


@dataclass(frozen=True)
class Department:
    org: str
    no: int
    name: str
    area: str
    dwellings: int
    valid_from: date
    valid_to: date | None = None

    def belongs(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def exists(self, year: int) -> bool:
        """The department has residents (and repairs) in the year: not yet demolished."""
        return self.org != "BK" or self.no != 35 or year <= 2021


DEPARTMENTS = (
    Department("FOB", 23, "Ringparken I", "RINGPARKEN", 196, date(1968, 1, 1)),
    Department("FOB", 24, "Ringparken II", "RINGPARKEN", 188, date(1968, 1, 1)),
    Department("FOB", 26, "Ringparken III", "RINGPARKEN", 176, date(1970, 1, 1)),
    Department("FOB", 27, "Ringparken IV", "RINGPARKEN", 172, date(1971, 1, 1)),
    # Sold by Slagelse Almennyttige Boligselskab on 1 June 2020.
    Department(
        "SAB", 1, "Schackenborgvænge", "RINGPARKEN", 136, date(1972, 1, 1), date(2020, 5, 31)
    ),
    Department("FOB", 30, "Ærøvej", "SYDBYEN", 254, date(1974, 1, 1)),
    Department("SB", 5, "Sydbyen, Ærøvej", "SYDBYEN", 208, date(1975, 1, 1)),
    # Department 35 was emptied during 2021 and demolished.
    Department("BK", 35, "Motalavej 1-39", "MOTALAVEJ", 164, date(1969, 1, 1), date(2021, 12, 31)),
    Department("BK", 36, "Motalavej 41-95", "MOTALAVEJ", 318, date(1969, 1, 1)),
    Department("BK", 37, "Motalavej Syd", "MOTALAVEJ", 212, date(1973, 1, 1)),
    Department("SKB", 12, "Parkvej", "PARKVEJ", 196, date(1976, 1, 1)),
    Department("SKB", 14, "Parkvej Ældreboliger", "PARKVEJ", 32, date(2012, 1, 1)),
)

# Per area and data year: residents (BEF), then the target shares of the criteria metrics
# (unemployment 18–64, basic education 30–59, convicted 18+, non-western) and the average
# income 15–64 in DKK. Counts are derived from these and split over the departments.
AREA_YEARS: dict[str, dict[int, tuple[int, float, float, float, float, int]]] = {
    "RINGPARKEN": {
        2013: (2080, 0.450, 0.590, 0.0400, 0.470, 137000),
        2014: (2065, 0.445, 0.600, 0.0390, 0.480, 140000),
        2015: (2050, 0.440, 0.610, 0.0377, 0.490, 142000),
        2016: (2040, 0.438, 0.640, 0.0300, 0.515, 145000),
        2017: (2035, 0.435, 0.660, 0.0250, 0.530, 148000),
        2018: (2020, 0.432, 0.685, 0.0210, 0.550, 150500),
        2019: (2010, 0.430, 0.702, 0.0206, 0.570, 153000),
        2020: (1995, 0.425, 0.700, 0.0190, 0.575, 156000),
        2021: (1690, 0.370, 0.660, 0.0170, 0.560, 164000),
        2022: (1685, 0.360, 0.640, 0.0150, 0.550, 169000),
        2023: (1680, 0.350, 0.620, 0.0140, 0.540, 173000),
        2024: (1675, 0.340, 0.595, 0.0130, 0.530, 178000),
    },
    "SYDBYEN": {
        2013: (1020, 0.380, 0.500, 0.0180, 0.400, 152000),
        2014: (1015, 0.385, 0.510, 0.0170, 0.410, 160000),  # income: see INCOME_2014
        2015: (1010, 0.405, 0.515, 0.0171, 0.420, 163000),
        2016: (1012, 0.390, 0.510, 0.0150, 0.420, 168000),
        2017: (1018, 0.385, 0.500, 0.0140, 0.430, 174000),
        2018: (1022, 0.370, 0.490, 0.0130, 0.430, 181000),
        2019: (1025, 0.360, 0.480, 0.0120, 0.440, 188000),
        2020: (1020, 0.350, 0.470, 0.0120, 0.440, 196000),
        2021: (1015, 0.340, 0.460, 0.0110, 0.450, 203000),
        2022: (1010, 0.330, 0.460, 0.0110, 0.450, 207000),
        2023: (1008, 0.320, 0.450, 0.0100, 0.440, 212000),
        2024: (1005, 0.310, 0.450, 0.0100, 0.440, 217000),
    },
    "MOTALAVEJ": {
        2013: (1330, 0.425, 0.560, 0.0300, 0.470, 140000),
        2014: (1320, 0.420, 0.545, 0.0310, 0.480, 143000),
        2015: (1300, 0.415, 0.535, 0.0349, 0.490, 144500),
        2016: (1290, 0.420, 0.550, 0.0290, 0.510, 146500),
        2017: (1280, 0.418, 0.560, 0.0260, 0.520, 149000),
        2018: (1270, 0.415, 0.570, 0.0220, 0.530, 152000),
        2019: (1260, 0.410, 0.580, 0.0200, 0.530, 154500),
        # 2020: udsat under law_2018 (unemployment 2019–2020 > 40 %, income < 55 % of the
        # region) but no longer a ghetto (non-western ≤ 50 %).
        2020: (1240, 0.400, 0.570, 0.0170, 0.490, 158000),
        2021: (1200, 0.370, 0.570, 0.0160, 0.510, 168000),
        2022: (1040, 0.350, 0.580, 0.0150, 0.480, 172000),
        2023: (1035, 0.360, 0.615, 0.0160, 0.510, 163000),
        2024: (1030, 0.355, 0.590, 0.0150, 0.495, 170000),
    },
    "PARKVEJ": {
        2013: (495, 0.410, 0.520, 0.0280, 0.140, 150000),
        2014: (490, 0.405, 0.515, 0.0290, 0.145, 152000),
        2015: (485, 0.405, 0.510, 0.0298, 0.150, 156000),
        2016: (488, 0.400, 0.500, 0.0270, 0.150, 160000),
        2017: (492, 0.390, 0.490, 0.0250, 0.160, 164000),
        2018: (495, 0.380, 0.480, 0.0220, 0.160, 168000),
        2019: (498, 0.370, 0.470, 0.0200, 0.170, 172000),
        2020: (500, 0.360, 0.470, 0.0180, 0.170, 176000),
        2021: (502, 0.350, 0.460, 0.0170, 0.180, 180000),
        2022: (505, 0.340, 0.450, 0.0160, 0.180, 185000),
        2023: (506, 0.330, 0.450, 0.0150, 0.190, 190000),
        2024: (508, 0.320, 0.440, 0.0150, 0.190, 195000),
    },
}
# Age and taxpayer shares of BEF per area: BEF_18PLUS, BEF_18_64, BEF_30_59, INDK_PERS_15_64.
AGE_SHARES = {
    "RINGPARKEN": (0.634, 0.561, 0.371, 0.49),
    "SYDBYEN": (0.693, 0.594, 0.396, 0.55),
    "MOTALAVEJ": (0.6615, 0.5615, 0.369, 0.55),
    "PARKVEJ": (0.693, 0.557, 0.371, 0.62),
}
# Exact counts behind the published figures (convicted 2015: 101 of 3,196 = 31.6 per 1,000;
# Ringparken 2018–2019: 2.07 % on average).
OVERRIDES = {
    ("RINGPARKEN", 2015, "BEF_18PLUS"): 1300,
    ("SYDBYEN", 2015, "BEF_18PLUS"): 700,
    ("MOTALAVEJ", 2015, "BEF_18PLUS"): 860,
    ("PARKVEJ", 2015, "BEF_18PLUS"): 336,
    ("RINGPARKEN", 2015, "DOEMTE_18PLUS"): 49,
    ("SYDBYEN", 2015, "DOEMTE_18PLUS"): 12,
    ("MOTALAVEJ", 2015, "DOEMTE_18PLUS"): 30,
    ("PARKVEJ", 2015, "DOEMTE_18PLUS"): 10,
    ("RINGPARKEN", 2018, "BEF_18PLUS"): 1295,
    ("RINGPARKEN", 2018, "DOEMTE_18PLUS"): 27,
    ("RINGPARKEN", 2019, "BEF_18PLUS"): 1265,
    ("RINGPARKEN", 2019, "DOEMTE_18PLUS"): 26,
}
# Average income 2014 of the four areas together (the application's DKK 146,626): Sydbyen's
# income sum is the remainder that makes the combined average exact.
INCOME_2014 = 146626
INCOME_2014_REMAINDER_AREA = "SYDBYEN"

# Cells Danmarks Statistik suppressed (too few persons): (org, department, MÅL, year).
SUPPRESSED = {
    ("SB", 5, "IKKEVEST", 2013),
    ("SKB", 14, "DOEMTE_18PLUS", 2016),
    ("SKB", 14, "INDK_PERS_15_64", 2017),
    ("SKB", 14, "INDK_SUM_15_64", 2017),
    ("SKB", 14, "DOEMTE_18PLUS", 2019),
    ("SKB", 14, "DOEMTE_18PLUS", 2022),
    ("SAB", 1, "DOEMTE_18PLUS", 2021),
}
MAAL = maal_codes("area_statistics")

# Benchmarks per year: national (DK) and municipal (330) DOEMTE_PCT_18PLUS, UDENFOR_PCT_18_64,
# GRUNDSKOLE_PCT_30_59, IKKEVEST_PCT (percent), INDK_GNS_15_64 (DKK); regional (1085) income.
BENCHMARK_MAAL = maal_codes("benchmarks")  # the order of BENCHMARKS' values
BENCHMARKS: dict[int, tuple[tuple[float, ...], tuple[float, ...], int]] = {
    2010: ((0.74, 14.6, 25.8, 7.9, 296400), (1.21, 15.1, 29.4, 6.9, 218300), 248000),
    2011: ((0.76, 14.9, 25.1, 8.1, 301200), (1.24, 15.4, 28.7, 7.1, 222100), 252500),
    2012: ((0.73, 14.8, 24.5, 8.3, 306900), (1.19, 15.2, 27.9, 7.3, 225400), 256000),
    2013: ((0.72, 14.5, 23.9, 8.5, 311500), (1.16, 14.8, 27.2, 7.5, 228600), 259500),
    2014: ((0.74, 14.1, 23.2, 8.8, 316800), (1.18, 14.4, 26.6, 7.7, 232740), 262400),
    2015: ((0.73, 13.8, 22.6, 9.2, 322300), (1.14, 14.0, 26.0, 8.0, 236900), 266000),
    2016: ((0.71, 13.4, 22.0, 9.6, 328900), (1.09, 13.6, 25.4, 8.4, 241800), 271000),
    2017: ((0.69, 13.0, 21.4, 9.9, 335600), (1.05, 13.3, 24.8, 8.7, 246700), 276000),
    2018: ((0.68, 12.6, 20.9, 10.1, 343100), (1.01, 12.9, 24.2, 8.9, 252300), 281000),
    2019: ((0.6734, 12.3, 20.3, 10.3, 350400), (0.97, 12.7, 23.7, 9.0, 257600), 286000),
    2020: ((0.66, 13.1, 19.8, 10.4, 356200), (0.95, 13.5, 23.1, 9.1, 261800), 291000),
    2021: ((0.64, 12.4, 19.3, 10.6, 368900), (0.92, 12.8, 22.6, 9.2, 271200), 296000),
    2022: ((0.63, 11.8, 18.8, 10.9, 380100), (0.9, 12.3, 22.1, 9.4, 279400), 302000),
    2023: ((0.62, 11.9, 18.4, 11.2, 392700), (0.89, 12.4, 21.6, 9.6, 288600), 308000),
    2024: ((0.61, 12.1, 18.0, 11.4, 404300), (0.87, 12.6, 21.2, 9.7, 297100), 314000),
}
TRYGHEDSINDEKS = {
    # year: (Hele landet, Alle udsatte områder, {area: index})
    2014: (88.2, 71.9, {"Ringparken": 60.3, "Motalavej": 68.8}),
    2015: (88.7, 72.7, {"Ringparken": 61.4, "Motalavej": 70.2}),
    2016: (88.9, 73.1, {"Ringparken": 62.0, "Motalavej": 69.5}),
    2017: (89.1, 73.8, {"Ringparken": 63.7, "Motalavej": 71.0, "Sydbyen": 77.9}),
    2018: (89.4, 74.2, {"Ringparken": 64.9, "Motalavej": 72.4}),
    2019: (89.2, 74.6, {"Ringparken": 66.1, "Motalavej": 71.8, "Sydbyen": 79.2}),
    2020: (89.6, 75.3, {"Ringparken": 67.4, "Motalavej": 73.5}),
    2021: (89.8, 75.9, {"Ringparken": 69.0, "Sydbyen": 80.4}),
    2022: (89.5, 76.2, {"Ringparken": 70.3, "Motalavej": 75.1}),
    2023: (89.9, 76.8, {"Ringparken": 71.2, "Motalavej": 74.6, "Sydbyen": 81.0}),
    2024: (90.1, 77.4, {"Ringparken": 72.5, "Motalavej": 76.3}),
}

# Police incidents per year in the four areas together, and arson (Påsat brand) per year.
INCIDENT_SHARE = {"RINGPARKEN": 0.42, "SYDBYEN": 0.16, "MOTALAVEJ": 0.32, "PARKVEJ": 0.10}
INCIDENTS_TOTAL = dict(
    zip(YEARS, (402, 415, 371, 358, 340, 322, 305, 331, 296, 284, 270, 262), strict=True)
)
ARSON = dict(zip(YEARS, (27, 31, 15, 18, 12, 14, 9, 11, 8, 7, 9, 6), strict=True))
INCIDENT_CATEGORIES = (
    ("Tyveri", 0.25),
    ("Indbrud", 0.19),
    ("Hærværk", 0.18),
    ("Vold", 0.13),
    ("Narkotika", 0.11),
    ("Trusler", 0.08),
    ("Uro og gadeuorden", 0.06),
)

# Vandalism 2015 in the four areas (the application's figures).
VANDALISM_CASES_2015 = 123
VANDALISM_COST_2015_ORE = 22_896_800


def rnd(x: float) -> int:
    return math.floor(x + 0.5)


def split_units(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder, ties by order)."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def fmt_decimal(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def fmt_amount(ore: int, thousands: bool, drop_zero_ore: bool = False) -> str:
    """DKK from øre: `1.234,50` (thousands) or `1234,50`; `1.500` when drop_zero_ore."""
    sign = "-" if ore < 0 else ""
    kr, rest = divmod(abs(ore), 100)
    whole = f"{kr:,}".replace(",", ".") if thousands else str(kr)
    if drop_zero_ore and rest == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole},{rest:02d}"


@dataclass
class CsvFile:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    encoding: str = "utf-8"
    bom: bool = False
    crlf: bool = False

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n" if self.crlf else "\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        data = buffer.getvalue().encode(self.encoding)
        return (b"\xef\xbb\xbf" + data) if self.bom else data


# ---------------------------------------------------------------- reference


def reference_files() -> dict[str, CsvFile]:
    areas = CsvFile(("area_id", "area_name", "town", "municipality_code", "region_code"), bom=True)
    areas.rows = [(a, n, t, MUNICIPALITY, REGION) for a, n, t in AREAS]
    departments = CsvFile(
        (
            "housing_org",
            "department_no",
            "department_name",
            "area_id",
            "dwellings",
            "valid_from",
            "valid_to",
        ),
        crlf=True,
    )
    departments.rows = [
        (
            d.org,
            str(d.no),
            d.name,
            d.area,
            str(d.dwellings),
            d.valid_from.isoformat(),
            d.valid_to.isoformat() if d.valid_to else "",
        )
        for d in DEPARTMENTS
    ]
    return {
        "reference/areas.csv": areas,
        "reference/departments.csv": departments,
        "reference/official_list.csv": official_list_file(),
    }


# The lists the minister published, as DOMAIN.md gives them: per list year, the most severe
# category of each area on a list. The categories of 2013–2018 and Motalavej's of 2020 are
# inferred (see example_readme.md); 2021 is not covered: DOMAIN.md names no area on its lists.
OFFICIAL_LIST: dict[int, dict[str, str]] = {
    **{
        y: {"RINGPARKEN": "saerligt_udsat", "MOTALAVEJ": "saerligt_udsat"}
        for y in range(2013, 2018)
    },
    2018: {"RINGPARKEN": "ghetto", "MOTALAVEJ": "ghetto"},
    2019: {"RINGPARKEN": "haardt_ghetto", "MOTALAVEJ": "haardt_ghetto"},
    2020: {"RINGPARKEN": "haardt_ghetto", "MOTALAVEJ": "udsat"},
    2022: {"MOTALAVEJ": "forebyggelse"},
    2023: {"MOTALAVEJ": "parallelsamfund"},
}


def official_list_file() -> CsvFile:
    f = CsvFile(("år", "område", "kategori"))
    f.rows = [
        (str(year), AREA_NAMES[area], category)
        for year, listed in OFFICIAL_LIST.items()
        for area, category in listed.items()
    ]
    return f


# ---------------------------------------------------------------- statistics


def tilt(dept: Department, maal: str, spread: float) -> float:
    """A department's fixed deviation from its area's average for one MÅL."""
    return 1 + random.Random(f"tilt-{dept.org}-{dept.no}-{maal}").uniform(-spread, spread)


def area_totals(area: str, year: int) -> dict[str, int]:
    """Area totals per MÅL (UDENFOR_18_64 in tenths of a full-time person)."""
    bef, unemp, edu, crime, nw, income = AREA_YEARS[area][year]
    s18plus, s18_64, s30_59, s_indk = AGE_SHARES[area]

    def get(maal: str, default: int) -> int:
        return OVERRIDES.get((area, year, maal), default)

    t = {"BEF": bef}
    t["BEF_18PLUS"] = get("BEF_18PLUS", rnd(bef * s18plus))
    t["BEF_18_64"] = get("BEF_18_64", rnd(bef * s18_64))
    t["BEF_30_59"] = get("BEF_30_59", rnd(bef * s30_59))
    t["INDK_PERS_15_64"] = get("INDK_PERS_15_64", rnd(bef * s_indk))
    t["UDENFOR_18_64"] = rnd(t["BEF_18_64"] * unemp * 10)
    t["GRUNDSKOLE_30_59"] = get("GRUNDSKOLE_30_59", rnd(t["BEF_30_59"] * edu))
    t["DOEMTE_18PLUS"] = get("DOEMTE_18PLUS", rnd(t["BEF_18PLUS"] * crime))
    t["IKKEVEST"] = get("IKKEVEST", rnd(bef * nw))
    t["INDK_SUM_15_64"] = t["INDK_PERS_15_64"] * income
    return t


def department_weight(dept: Department, year: int) -> float:
    # Department 35 was being emptied before the demolition.
    if dept.org == "BK" and dept.no == 35 and year == 2021:
        return dept.dwellings * 0.5
    return float(dept.dwellings)


DENOMINATOR_OF = {
    "BEF_18PLUS": "BEF",
    "BEF_18_64": "BEF",
    "BEF_30_59": "BEF",
    "INDK_PERS_15_64": "BEF",
    "UDENFOR_18_64": "BEF_18_64",
    "GRUNDSKOLE_30_59": "BEF_30_59",
    "DOEMTE_18PLUS": "BEF_18PLUS",
    "IKKEVEST": "BEF",
    "INDK_SUM_15_64": "INDK_PERS_15_64",
}
SPLIT_ORDER = (
    "BEF",
    "BEF_18PLUS",
    "BEF_18_64",
    "BEF_30_59",
    "INDK_PERS_15_64",
    "UDENFOR_18_64",
    "GRUNDSKOLE_30_59",
    "DOEMTE_18PLUS",
    "IKKEVEST",
    "INDK_SUM_15_64",
)


def department_values(year: int) -> dict[tuple[str, int], dict[str, int]]:
    """Per department of an area on 1 January: MÅL → integer (UDENFOR in tenths)."""
    jan1 = date(year, 1, 1)
    totals = {area: area_totals(area, year) for area in AREA_YEARS}
    if year == 2014:
        persons = sum(t["INDK_PERS_15_64"] for t in totals.values())
        others = sum(
            t["INDK_SUM_15_64"] for a, t in totals.items() if a != INCOME_2014_REMAINDER_AREA
        )
        totals[INCOME_2014_REMAINDER_AREA]["INDK_SUM_15_64"] = INCOME_2014 * persons - others
    values: dict[tuple[str, int], dict[str, int]] = {}
    for area, t in totals.items():
        depts = [d for d in DEPARTMENTS if d.area == area and d.belongs(jan1)]
        per: dict[str, list[int]] = {}
        for maal in SPLIT_ORDER:
            if maal == "BEF":
                weights = [department_weight(d, year) for d in depts]
            else:
                base = per[DENOMINATOR_OF[maal]]
                spread = 0.03 if DENOMINATOR_OF[maal] == "BEF" and maal != "IKKEVEST" else 0.12
                weights = [b * tilt(d, maal, spread) for b, d in zip(base, depts, strict=True)]
            per[maal] = split_units(t[maal], weights)
        for i, d in enumerate(depts):
            values[(d.org, d.no)] = {maal: per[maal][i] for maal in MAAL}
    return values


def statistics_files() -> dict[str, CsvFile]:
    files: dict[str, CsvFile] = {}
    previous: dict[tuple[str, int], dict[str, int]] = {}
    for year in YEARS:
        values = department_values(year)
        if year == 2021:
            # The tabulation was ordered before the sale was registered: Schackenborgvænge
            # is still in it, although it belongs to no area on 1 January 2021.
            values[("SAB", 1)] = {
                m: rnd(v * 0.98) if m != "INDK_SUM_15_64" else rnd(v * 1.01)
                for m, v in previous[("SAB", 1)].items()
            }
        previous = values
        header = ("BOLIGORGANISATION", "AFDELING", "MÅL", "TID", "INDHOLD")
        if year == 2020:
            header = ("TID", "BOLIGORGANISATION", "AFDELING", "MÅL", "INDHOLD")
        f = CsvFile(header, bom=year in (2016, 2019), crlf=year in (2017, 2018, 2023))
        for (org, no), per in sorted(values.items()):
            for maal in MAAL:
                if (org, no, maal, year) in SUPPRESSED:
                    cell = ".."
                elif maal == "UDENFOR_18_64":
                    cell = fmt_decimal(per[maal] / 10, 1)
                else:
                    cell = str(per[maal])
                row = {
                    "BOLIGORGANISATION": org,
                    "AFDELING": str(no),
                    "MÅL": maal,
                    "TID": str(year),
                    "INDHOLD": cell,
                }
                f.rows.append(tuple(row[h] for h in header))
        files[f"statistics/area_statistics_{year}.csv"] = f
    bench = CsvFile(("TID", "NIVEAU", "KODE", "MÅL", "INDHOLD"), bom=True)
    for year, (national, municipal, regional) in BENCHMARKS.items():
        for level, code, values in (("land", "DK", national), ("kommune", MUNICIPALITY, municipal)):
            for maal, value in zip(BENCHMARK_MAAL, values, strict=True):
                cell = str(value) if maal == "INDK_GNS_15_64" else fmt_pct(maal, value)
                bench.rows.append((str(year), level, code, maal, cell))
        bench.rows.append((str(year), "region", REGION, "INDK_GNS_15_64", str(regional)))
    files["statistics/benchmarks.csv"] = bench
    return files


def fmt_pct(maal: str, value: float) -> str:
    if maal == "DOEMTE_PCT_18PLUS":
        return fmt_decimal(value, 4 if round(value, 2) != value else 2)
    return fmt_decimal(value, 1)


# ---------------------------------------------------------------- police


def police_files() -> dict[str, CsvFile]:
    files: dict[str, CsvFile] = {}
    trygh = CsvFile(("år", "område", "indeks"))
    for year, (national, udsatte, per_area) in TRYGHEDSINDEKS.items():
        trygh.rows.append((str(year), "Hele landet", fmt_decimal(national, 1)))
        trygh.rows.append((str(year), "Alle udsatte områder", fmt_decimal(udsatte, 1)))
        for name, value in per_area.items():
            trygh.rows.append((str(year), name, fmt_decimal(value, 1)))
    files["police/tryghedsindeks.csv"] = trygh

    areas = list(INCIDENT_SHARE)
    for year in YEARS:
        rng = random.Random(f"incidents-{year}")
        arson = split_units(ARSON[year], [0.45, 0.13, 0.35, 0.07])
        others = split_units(INCIDENTS_TOTAL[year] - ARSON[year], list(INCIDENT_SHARE.values()))
        days = (date(year, 12, 31) - date(year, 1, 1)).days
        events = []
        for area, n_arson, n_other in zip(areas, arson, others, strict=True):
            cats = ["Påsat brand"] * n_arson + rng.choices(
                [c for c, _ in INCIDENT_CATEGORIES],
                weights=[w for _, w in INCIDENT_CATEGORIES],
                k=n_other,
            )
            for cat in cats:
                day = date(year, 1, 1) + timedelta(days=rng.randint(0, days))
                events.append((day, area, cat))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        f = CsvFile(
            ("anmeldelse_id", "dato", "område", "kategori"),
            bom=year == 2016,
            crlf=year in (2014, 2021),
        )
        for seq, (day, area, cat) in enumerate(events, start=1):
            name = AREA_NAMES[area]
            # Some police extracts spell area names in other cases.
            if year == 2019 and seq % 9 == 0:
                name = name.lower()
            elif year == 2022 and area == "MOTALAVEJ":
                name = name.upper()
            f.rows.append((f"SJP-{year}-{seq:05d}", day.strftime("%d-%m-%Y"), name, cat))
        files[f"police/incidents_{year}.csv"] = f
    return files


# ---------------------------------------------------------------- vandalism


@dataclass(frozen=True)
class LedgerStyle:
    periods: tuple[int, ...]  # export months
    window: int  # months covered by an export, ending with its period
    years: range = LEDGER_YEARS
    encoding: str = "utf-8"
    bom: bool = False
    crlf: bool = False
    thousands: bool = False
    drop_zero_ore: bool = False
    header: tuple[str, ...] = (
        "Selskab",
        "Afdeling",
        "Sagsnr",
        "Linje",
        "Dato",
        "Kategori",
        "Tekst",
        "Beløb",
    )


LEDGER_STYLES = {
    "FOB": LedgerStyle(periods=(3, 6, 9, 12), window=6, thousands=True),
    "SB": LedgerStyle(periods=(6, 12), window=6, bom=True),
    "SAB": LedgerStyle(periods=(12,), window=12, years=range(2014, 2021), crlf=True),
    "BK": LedgerStyle(
        periods=(6, 12),
        window=7,
        encoding="cp1252",
        crlf=True,
        thousands=True,
        drop_zero_ore=True,
    ),
    "SKB": LedgerStyle(
        periods=(12,),
        window=12,
        header=("sagsnr", "linje", "dato", "selskab", "afdeling", "kategori", "tekst", "beløb"),
    ),
}
CASE_RATE = {  # repair cases per dwelling and year
    2014: 0.060,
    2015: 0.055,
    2016: 0.052,
    2017: 0.050,
    2018: 0.047,
    2019: 0.045,
    2020: 0.046,
    2021: 0.042,
    2022: 0.040,
    2023: 0.038,
    2024: 0.036,
}
REPAIRS = {
    "Hærværk": (
        "Ødelagt dørpumpe, opgang",
        "Hærværk på legeplads",
        "Nedrevet udendørsbelysning ved p-plads",
        "Ødelagt postkasseanlæg",
        "Opbrudt kælderdør; ny lås og beslag",
        "Skåret i hegn og låger",
    ),
    "Graffiti": (
        "Graffiti afrenset på gavl",
        "Graffiti på cykelskur",
        "Tags i trappeopgang; afrensning og maling",
    ),
    "Brand": (
        "Påsat brand i affaldscontainer",
        "Brandskadet kælderrum, sodrensning",
        "Brand i barnevognsrum; udskiftning af dør",
    ),
    "Glas": (
        "Knust rude i opgang",
        "Glasparti i fælleshus knust",
        "Smadret vindue i vaskeri",
    ),
}
CREDIT_TEXTS = ("Kreditnota, fejlfaktureret", "Forsikringsdækning", "Kreditnota, dobbeltbogført")


@dataclass
class LedgerLine:
    org: str
    dept: int
    case: str
    line: int
    versions: list[tuple[int, date, str, str, int]]  # (from_period, date, category, text, øre)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def export_periods(org: str) -> list[int]:
    style = LEDGER_STYLES[org]
    return [y * 12 + m - 1 for y in style.years for m in style.periods]


def exports_containing(org: str, month: int) -> list[int]:
    window = LEDGER_STYLES[org].window
    return [p for p in export_periods(org) if p - window < month <= p]


def make_case(rng: random.Random, org: str, dept: int, case: str, start: date) -> list[LedgerLine]:
    category = rng.choices(list(REPAIRS), weights=(0.45, 0.2, 0.1, 0.25))[0]
    n_lines = rng.choices((1, 2, 3), weights=(0.55, 0.3, 0.15))[0]
    lines: list[LedgerLine] = []
    day = start
    for i in range(n_lines):
        if i:
            day = day + timedelta(days=rng.randint(1, 30))
        ore = rnd(rng.lognormvariate(6.75, 0.7)) * 100
        if rng.random() < 0.2:
            ore += rng.choice((25, 50, 75))
        text = (
            rng.choice(REPAIRS[category])
            if i == 0
            else rng.choice(
                ("Materialer", "Håndværkertimer", "Maler, efterbehandling", "Glarmester")
            )
        )
        lines.append(LedgerLine(org, dept, case, i + 1, [(0, day, category, text, ore)]))
    if rng.random() < 0.1:
        ore = -rnd(lines[0].versions[0][4] * rng.uniform(0.3, 1.0) / 100) * 100
        day = day + timedelta(days=rng.randint(10, 40))
        text = rng.choice(CREDIT_TEXTS)
        lines.append(LedgerLine(org, dept, case, n_lines + 1, [(0, day, category, text, ore)]))
    return lines


def case_number(org: str, year: int, k: int) -> str:
    return {
        "FOB": f"H{year % 100:02d}-{k:04d}",
        "SB": f"{year}-{k:03d}",
        "SAB": f"S{year}{k:03d}",
        "BK": f"{year % 100:02d}{k:04d}",
        "SKB": f"PV-{year}-{k:02d}",
    }[org]


def generate_cases(year: int, n_cases: int | None) -> list[list[LedgerLine]]:
    """Cases started in a year; n_cases overrides the rate-based count (used for 2015)."""
    rng = random.Random(f"ledger-{year}")
    depts = [d for d in DEPARTMENTS if d.exists(year) and year in LEDGER_STYLES[d.org].years]
    weights = [d.dwellings for d in depts]
    total = n_cases if n_cases is not None else rnd(CASE_RATE[year] * sum(weights))
    picks = sorted(
        (
            (date(year, 1, 1) + timedelta(days=rng.randint(0, 364)), d)
            for d in rng.choices(depts, weights=weights, k=total)
        ),
        key=lambda p: (p[0], p[1].org, p[1].no),
    )
    counters: dict[str, int] = {}
    cases = []
    for start, d in picks:
        counters[d.org] = counters.get(d.org, 0) + 1
        case = case_number(d.org, year, counters[d.org])
        cases.append(
            make_case(random.Random(f"case-{year}-{d.org}-{case}"), d.org, d.no, case, start)
        )
    return cases


def final_version(line: LedgerLine) -> tuple[int, date, str, str, int]:
    return line.versions[-1]


def in_area_on(org: str, dept: int, day: date) -> bool:
    return any(d.org == org and d.no == dept and d.belongs(day) for d in DEPARTMENTS)


def lines_2015(all_lines: list[LedgerLine]) -> list[LedgerLine]:
    return [
        ln
        for ln in all_lines
        if final_version(ln)[1].year == 2015 and in_area_on(ln.org, ln.dept, final_version(ln)[1])
    ]


def revise(all_lines: list[LedgerLine]) -> None:
    """Later exports change some lines seen in an earlier, overlapping export."""
    for ln in all_lines:
        _, day, category, text, ore = ln.versions[0]
        containing = exports_containing(ln.org, month_index(day))
        rng = random.Random(f"revise-{ln.org}-{ln.case}-{ln.line}")
        if len(ln.versions) == 1 and len(containing) >= 2 and ore > 0 and rng.random() < 0.15:
            new_ore = rnd(ore * rng.uniform(0.8, 1.35) / 100) * 100
            new_category = "Glas" if category == "Hærværk" and rng.random() < 0.3 else category
            ln.versions.append((containing[-1], day, new_category, text, new_ore))


def move_line(lines: list[LedgerLine]) -> bool:
    """A line booked in late December 2015 is moved to 5 January 2016 by a later export."""
    single = {(ln.org, ln.case) for ln in lines if ln.line == 1} - {
        (ln.org, ln.case) for ln in lines if ln.line == 2
    }
    for ln in lines:
        day = ln.versions[0][1]
        if (
            ln.org == "FOB"
            and (ln.org, ln.case) in single
            and date(2015, 12, 1) <= day <= date(2015, 12, 31)
        ):
            _, _, category, text, ore = ln.versions[0]
            ln.versions = [
                (0, date(2015, 12, 30), category, text, ore),
                (2016 * 12 + 2, date(2016, 1, 5), category, text, ore),
            ]
            return True
    return False


def ledger_lines() -> list[LedgerLine]:
    cases_by_year = {y: generate_cases(y, None) for y in LEDGER_YEARS if y != 2015}

    def build(n_2015: int) -> list[LedgerLine] | None:
        cases = [*cases_by_year.values(), generate_cases(2015, n_2015)]
        lines = [ln for year_cases in cases for case in year_cases for ln in case]
        # Ledgers end with the last export: later lines are not exported yet.
        lines = [ln for ln in lines if ln.versions[0][1] <= date(2024, 12, 31)]
        return lines if move_line(lines) else None

    lines = build(VANDALISM_CASES_2015 + 15)
    if lines is None:
        raise RuntimeError("no December 2015 line to move")
    # Leave out cases lying wholly in 2015 (the ledger's numbering gaps are cases coded
    # otherwise than as vandalism) until 123 cases have a line dated 2015.
    counted = {(ln.org, ln.case) for ln in lines_2015(lines)}
    not_2015 = {(ln.org, ln.case) for ln in lines if final_version(ln)[1].year != 2015}
    removable = sorted(counted - not_2015)
    drop = set(random.Random("ledger-gaps").sample(removable, len(counted) - VANDALISM_CASES_2015))
    lines = [ln for ln in lines if (ln.org, ln.case) not in drop]
    revise(lines)
    scale_2015(lines)
    return lines


def scale_2015(lines: list[LedgerLine]) -> None:
    """Scale the amounts of lines dated 2015 so that their de-duplicated sum is exact."""
    target = lines_2015(lines)
    total = sum(final_version(ln)[4] for ln in target)
    factor = VANDALISM_COST_2015_ORE / total
    for ln in target:
        ln.versions = [
            (p, d, c, t, rnd(o * factor / 100) * 100 + o % 100 if o > 0 else rnd(o * factor))
            for p, d, c, t, o in ln.versions
        ]
    adjuster = max(
        (ln for ln in target if len(ln.versions) == 1 and ln.versions[0][4] > 0),
        key=lambda ln: (ln.versions[0][4], ln.org, ln.case, ln.line),
    )
    rest = VANDALISM_COST_2015_ORE - sum(final_version(ln)[4] for ln in target)
    p, d, c, t, o = adjuster.versions[0]
    adjuster.versions[0] = (p, d, c, t, o + rest)


def _export_row(org: str, ln, version: tuple, style) -> tuple:
    """(date, case, line, cells in the export's column order) of one ledger line as `version`
    (period, day, category, text, øre) has it, in the organisation's export style."""
    _, day, category, text, ore = version
    row = {
        "selskab": org,
        "afdeling": str(ln.dept),
        "sagsnr": ln.case,
        "linje": str(ln.line),
        "dato": day.strftime("%d-%m-%Y"),
        "kategori": category,
        "tekst": text,
        "beløb": fmt_amount(ore, style.thousands, style.drop_zero_ore),
    }
    return day, ln.case, ln.line, tuple(row[h.lower()] for h in style.header)


def vandalism_files() -> dict[str, CsvFile]:
    lines = ledger_lines()
    files: dict[str, CsvFile] = {}
    for org, style in LEDGER_STYLES.items():
        org_lines = [ln for ln in lines if ln.org == org]
        for period in export_periods(org):
            f = CsvFile(style.header, encoding=style.encoding, bom=style.bom, crlf=style.crlf)
            rows = []
            for ln in org_lines:
                visible = [v for v in ln.versions if v[0] <= period]
                if not visible or month_index(ln.versions[0][1]) > period:
                    continue
                version = visible[-1]
                if not period - style.window < month_index(version[1]) <= period:
                    continue
                rows.append(_export_row(org, ln, version, style))
            f.rows = [r[3] for r in sorted(rows, key=lambda r: r[:3])]
            year, month = divmod(period, 12)
            files[f"vandalism/{org}_{year}-{month + 1:02d}.csv"] = f
    return files


def next_month_exports(sources: Path) -> dict[str, CsvFile]:
    """The ledger exports of the month after the last export in `sources` (a copy of the
    bundled example): `vandalism/<org>_<YYYY-MM>.csv` for each organisation with an export in
    that last month, in the organisation's style (encoding, BOM, line ends, column order,
    amount format), with the repair cases started in the new month at the last year's case
    rate (at least one) in departments that belong to their area all month, and only the
    lines dated in the month. Case numbers restart at 1 in the new month's year, so the month
    must be a January (as it is after the bundled example's December 2024 exports)."""
    last_by_org: dict[str, int] = {}
    for path in (sources / "vandalism").glob("*_[0-9][0-9][0-9][0-9]-[0-9][0-9].csv"):
        org, period = path.stem.rsplit("_", 1)
        year, month = (int(part) for part in period.split("-"))
        last_by_org[org] = max(last_by_org.get(org, 0), year * 12 + month - 1)
    last = max(last_by_org.values())
    year, month = divmod(last + 1, 12)
    if month != 0:
        raise ValueError(f"the next month is {year}-{month + 1:02d}, not a January")
    first_day = date(year, 1, 1)
    last_day = date(year, 1, 31)
    rate = CASE_RATE[max(CASE_RATE)]
    files: dict[str, CsvFile] = {}
    for org in sorted(o for o, period in last_by_org.items() if period == last):
        style = LEDGER_STYLES[org]
        depts = [
            d
            for d in DEPARTMENTS
            if d.org == org and d.exists(year) and d.belongs(first_day) and d.belongs(last_day)
        ]
        rng = random.Random(f"ledger-month-{org}-{year}-01")
        n_cases = max(1, rnd(rate * sum(d.dwellings for d in depts) / 12))
        picks = sorted(
            (first_day + timedelta(days=rng.randint(0, 30)), d.no)
            for d in rng.choices(depts, weights=[d.dwellings for d in depts], k=n_cases)
        )
        rows = []
        for k, (start, dept) in enumerate(picks, start=1):
            case = case_number(org, year, k)
            for ln in make_case(random.Random(f"case-{year}-{org}-{case}"), org, dept, case, start):
                if ln.versions[0][1] > last_day:
                    continue  # booked after the month: not in this export yet
                rows.append(_export_row(org, ln, ln.versions[0], style))
        f = CsvFile(style.header, encoding=style.encoding, bom=style.bom, crlf=style.crlf)
        f.rows = [r[3] for r in sorted(rows, key=lambda r: r[:3])]
        files[f"vandalism/{org}_{year}-01.csv"] = f
    return files


def write_next_month(sources: Path, out: Path) -> list[Path]:
    """`next_month_exports(sources)` written under `out` (e.g. `out/vandalism/BK_2025-01.csv`)."""
    written = []
    for rel, f in sorted(next_month_exports(sources).items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.to_bytes())
        written.append(path)
    return written


# ---------------------------------------------------------------- efforts

PLAN_2017 = (
    "Uddannelse og beskæftigelse",
    "Forebyggelse og forældreansvar",
    "Kriminalpræventiv indsats",
    "Tryghed og trivsel",
)
PLAN_2022 = (
    "Uddannelse og livschancer",
    "Beskæftigelse",
    "Kriminalitetsforebyggelse",
    "Sundhed og trivsel",
)
AREA_ORDER = ("RINGPARKEN", "SYDBYEN", "MOTALAVEJ", "PARKVEJ")
# (id, name, effort area index, track, {area: årsværk}, budget per årsværk, activity budget)
EFFORTS = (
    ("PK-1", "Projektkoordinator", 0, "projekt", {"RINGPARKEN": 1.0}, 540000, 60000),
    ("PK-2", "Projektkoordinator", 1, "projekt", {"SYDBYEN": 1.0}, 540000, 40000),
    ("PK-3", "Projektkoordinator", 2, "projekt", {"MOTALAVEJ": 1.0}, 540000, 80000),
    ("PK-4", "Projektkoordinator", 3, "projekt", {"PARKVEJ": 1.0}, 540000, 30000),
    (
        "D-JOB",
        "Job- og uddannelsesvejledning i boligområdet",
        0,
        "drift",
        {"RINGPARKEN": 1.0, "MOTALAVEJ": 1.0},
        560000,
        120000,
    ),
    ("D-LEKTIE", "Lektiecafé og skolesamarbejde", 0, "drift", {"SYDBYEN": 1.0}, 520000, 60000),
    (
        "D-FAM",
        "Familierådgiver; forældreansvar og tidlig indsats",
        1,
        "drift",
        {"RINGPARKEN": 1.0, "MOTALAVEJ": 0.5},
        580000,
        40000,
    ),
    (
        "D-SSP",
        "SSP-medarbejder og gadeplansarbejde",
        2,
        "drift",
        {"RINGPARKEN": 1.0, "MOTALAVEJ": 1.0},
        570000,
        90000,
    ),
    (
        "D-FRI",
        "Brobygger til fritidsliv",
        3,
        "drift",
        {"SYDBYEN": 0.5, "PARKVEJ": 0.5},
        500000,
        110000,
    ),
    ("D-BEBO", "Beboerrådgiver", 3, "drift", {"RINGPARKEN": 1.0}, 530000, 20000),
    ("F-LEDER", "Kompetencecenter: leder", 3, "drift", {"FÆLLES": 1.0}, 680000, 420000),
    (
        "F-DATA",
        "Kompetencecenter: data og dokumentation",
        3,
        "drift",
        {"FÆLLES": 1.0},
        590000,
        60000,
    ),
    (
        "F-SEK",
        "Kompetencecenter: sekretariat og kommunikation",
        3,
        "drift",
        {"FÆLLES": 1.5},
        470000,
        40000,
    ),
)


def efforts_file() -> CsvFile:
    f = CsvFile(
        ("indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk", "budget_kr")
    )
    for year in range(2017, 2025):
        plan = PLAN_2017 if year <= 2021 else PLAN_2022
        growth = 1.02 ** (year - 2017)
        for eid, name, area_ix, track, fte_by_area, per_fte, activity in EFFORTS:
            rng = random.Random(f"effort-{eid}-{year}")
            for area, fte in fte_by_area.items():
                # Ramp-up in the first year and a reduced Parkvej coordinator from 2022.
                fte_year = fte * (0.75 if year == 2017 and track == "projekt" else 1.0)
                if eid == "PK-4" and year >= 2022:
                    fte_year = 0.5
                budget_ore = rnd((fte_year * per_fte + activity) * growth * rng.uniform(0.97, 1.03))
                budget_ore = rnd(budget_ore / 1000) * 1000 * 100
                thousands = year in (2017, 2018, 2022) or budget_ore >= 100_000_000
                f.rows.append(
                    (
                        eid,
                        f"{name}, {plan[area_ix].lower()}" if track == "projekt" else name,
                        plan[area_ix],
                        track,
                        area,
                        str(year),
                        fmt_decimal(fte_year, 2 if fte_year % 0.5 else 1),
                        fmt_amount(budget_ore, thousands),
                    )
                )
    return f


# ---------------------------------------------------------------- output


def build() -> dict[str, bytes]:
    files: dict[str, CsvFile] = {}
    files.update(reference_files())
    files.update(statistics_files())
    files.update(police_files())
    files.update(vandalism_files())
    files["efforts/indsatser.csv"] = efforts_file()
    out = {path: f.to_bytes() for path, f in files.items()}
    out["README.md"] = README.read_bytes()
    return out


def write(out_dir: Path) -> list[Path]:
    written = []
    for rel, data in sorted(build().items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


README = Path(__file__).with_name("example_readme.md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    written = write(args.out)
    print(f"wrote {len(written)} files to {args.out}")


if __name__ == "__main__":
    main()
