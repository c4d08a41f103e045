"""Generate a synthetic national delivery: every social housing area of Denmark, to SOURCES.md.

About 7,000 departments in 250 areas across 98 municipalities and 5 regions, data years
2010–2025: ≈ 1.1M statistics rows, ≈ 1.5M police incidents and ≈ 5M vandalism ledger lines in
monthly exports of ≈ 500 housing organisations (≈ 90,000 files), with overlapping exports whose
later versions change amounts, credit lines, cp1252 and BOM encodings, CRLF, header orders,
`..`-suppressed cells and quoted fields. The numbers are plausible, not real.

The generator is seeded (numpy `default_rng` per part, keyed by the seed and the part's name)
and streams: each file is formatted and written on its own, the ledger one organisation at a
time, so memory stays at one organisation's lines. The result is cached: a directory named by
the generator's version, the seed and the size holds `sources/` (the delivery) and
`increment/` (the next month's ledger exports, for an incremental refresh), and a `COMPLETE`
stamp written last.

    uv run python -m sources.synthetic.national [--size national|tiny] [--scale N] [--seed N]
        [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from sources.synthetic.example import BENCHMARK_MAAL, MAAL, fmt_amount

VERSION = 2
MAX_NAMED_SCALE = 16  # Size.scaled(n) of a named size is named `<name>-x<n>` up to this n
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".bench" / "national"
REGIONS = ("1081", "1082", "1083", "1084", "1085")
LEDGER_HEADER = ("Selskab", "Afdeling", "Sagsnr", "Linje", "Dato", "Kategori", "Tekst", "Beløb")
INCIDENT_CATEGORIES = (
    ("Tyveri", 0.24),
    ("Indbrud", 0.17),
    ("Hærværk", 0.17),
    ("Vold", 0.12),
    ("Narkotika", 0.11),
    ("Trusler", 0.08),
    ("Uro og gadeuorden", 0.06),
    ("Påsat brand", 0.04),
    ("Vold; simpel", 0.01),  # a `;` in a cell: the writer quotes it
)
REPAIRS = {
    "Hærværk": ("Ødelagt dørpumpe, opgang", "Hærværk på legeplads", "Ødelagt postkasseanlæg"),
    "Graffiti": ("Graffiti afrenset på gavl", "Tags i trappeopgang; afrensning og maling"),
    "Brand": ("Påsat brand i affaldscontainer", "Brandskadet kælderrum, sodrensning"),
    "Glas": ("Knust rude i opgang", 'Glasparti i "fælleshus" knust'),
}
FOLLOW_UP_TEXTS = ("Materialer", "Håndværkertimer", "Maler, efterbehandling", "Glarmester")
CREDIT_TEXTS = ("Kreditnota, fejlfaktureret", "Forsikringsdækning", "Kreditnota; dobbeltbogført")
EFFORT_AREAS = (
    "Uddannelse og beskæftigelse",
    "Forebyggelse og forældreansvar",
    "Kriminalpræventiv indsats",
    "Tryghed og trivsel",
)
EFFORT_NAMES = (
    "Projektkoordinator",
    "Job- og uddannelsesvejledning",
    "Lektiecafé og skolesamarbejde",
    "Familierådgiver; tidlig indsats",
    "SSP-medarbejder og gadeplansarbejde",
    "Brobygger til fritidsliv",
    "Beboerrådgiver",
)
SYLLABLES = (
    ("Søn", "Nør", "Vest", "Øster", "Hede", "Skov", "Strand", "Bak", "Eng", "Ås", "Møl", "Kilde"),
    ("gård", "bo", "parken", "vang", "høj", "lund", "toften", "vænget", "haven", "løkken"),
)
TOWN_SYLLABLES = (
    ("Ring", "Hol", "Sla", "Kol", "Nyk", "Fre", "Vi", "Her", "Næst", "Hørs", "Sor", "Grå"),
    ("sted", "by", "borg", "løse", "rup", "købing", "bæk", "holm", "ager", "strup"),
)
STREETS = ("Ærøvej", "Åbakken", "Søndergade", "Parkvej", "Møllevænget", "Kirkestræde")


@dataclass(frozen=True)
class Size:
    regions: int = 5
    municipalities: int = 98
    areas: int = 250
    departments: int = 7000
    organisations: int = 500
    first_year: int = 2010
    last_year: int = 2025  # data years of statistics and incidents
    incidents: int = 1_500_000
    ledger_lines: int = 5_000_000  # lines over all export files (overlaps counted)
    efforts_per_area_year: float = 1.5

    def scaled(self, n: int) -> Size:
        """A delivery `n` times as large: `n` times the municipalities, areas, departments,
        housing organisations, police incidents and ledger lines (so about `n` times the
        statistics rows, benchmarks, ledger files and efforts); the regions and the data years
        stay. Its cache entry is named `<size>-x<n>`. The municipalities draw distinct codes
        from 101–860, so the national size scales up to 7."""
        if n < 1:
            raise ValueError(f"scale must be a positive whole number, not {n!r}")
        return replace(
            self,
            municipalities=self.municipalities * n,
            areas=self.areas * n,
            departments=self.departments * n,
            organisations=self.organisations * n,
            incidents=self.incidents * n,
            ledger_lines=self.ledger_lines * n,
        )

    @property
    def name(self) -> str:
        for name, size in SIZES.items():
            if size == self:
                return name
        for name, size in SIZES.items():
            for n in range(2, MAX_NAMED_SCALE + 1):
                if size.scaled(n) == self:
                    return f"{name}-x{n}"
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
        return f"custom-{digest[:10]}"


NATIONAL = Size()
TINY = Size(
    regions=2,
    municipalities=3,
    areas=5,
    departments=40,
    organisations=4,
    first_year=2022,
    last_year=2025,
    incidents=400,
    ledger_lines=3000,
    efforts_per_area_year=1.0,
)
SIZES = {"national": NATIONAL, "tiny": TINY}


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent, reproducible stream per part: changing one part leaves the others."""
    return np.random.default_rng([seed, *part.encode()])


# ---------------------------------------------------------------- writing


def _quote(value: str) -> str:
    if any(c in value for c in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_text(header: tuple[str, ...], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write(
    path: Path, text: str, *, encoding: str = "utf-8", bom: bool = False, crlf: bool = False
) -> None:
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode(encoding)
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)


def _dk(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


# ---------------------------------------------------------------- reference


@dataclass
class Reference:
    area_ids: list[str]
    area_names: list[str]
    area_municipality: np.ndarray  # area -> municipality index
    municipality_codes: list[str]
    municipality_region: np.ndarray
    orgs: list[str]
    # One row per department period (a department that moved has two):
    dept_org: np.ndarray
    dept_no: np.ndarray
    dept_area: np.ndarray
    dwellings: np.ndarray
    valid_from: np.ndarray  # datetime64[D]
    valid_to: np.ndarray  # datetime64[D], NaT = still belongs


def _unique_names(rng, syllables, count: int) -> list[str]:
    first, second = syllables
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = str(rng.choice(first)) + str(rng.choice(second))
        if name.casefold() in seen:
            name = f"{name} {len(names) + 1}"
        seen.add(name.casefold())
        names.append(name)
    return names


def _area_id(name: str) -> str:
    for letter, ascii_ in (("Æ", "AE"), ("Ø", "OE"), ("Å", "AA")):
        name = name.upper().replace(letter, ascii_)
    return "".join(c if c.isalnum() else "_" for c in name)


def build_reference(size: Size, seed: int) -> Reference:
    rng = rng_for(seed, "reference")
    codes = sorted(int(c) for c in rng.choice(np.arange(101, 861), size.municipalities, False))
    municipality_codes = [f"{c:03d}" for c in codes]
    municipality_region = np.sort(rng.integers(0, size.regions, size.municipalities))
    # Every municipality has at least one area; the rest go to some more than others.
    weight = rng.pareto(1.5, size.municipalities) + 1
    extra = rng.choice(
        size.municipalities, size.areas - size.municipalities, p=weight / weight.sum()
    )
    area_municipality = np.sort(np.concatenate([np.arange(size.municipalities), extra]))
    area_names = _unique_names(rng, SYLLABLES, size.areas)
    area_ids = [_area_id(n) for n in area_names]

    # Organisations: one per municipality at least, the rest where the areas are.
    org_municipality = np.concatenate(
        [
            np.arange(size.municipalities),
            rng.choice(area_municipality, size.organisations - size.municipalities),
        ]
    )[: size.organisations]
    letters = np.array(list("ABDEFGHIKLMNOPRSTV"))
    orgs = []
    for i in range(size.organisations):
        code = "".join(rng.choice(letters, int(rng.integers(2, 4)))) + str(i + 1)
        orgs.append(code)

    # Departments: spread over areas, each from an organisation of the area's municipality.
    dept_area = np.sort(
        np.concatenate(
            [
                np.arange(size.areas),
                rng.integers(0, size.areas, size.departments - size.areas),
            ]
        )
    )
    orgs_by_municipality = {
        m: np.flatnonzero(org_municipality == m) for m in range(size.municipalities)
    }
    dept_org = np.array([rng.choice(orgs_by_municipality[area_municipality[a]]) for a in dept_area])
    dept_no = np.zeros(size.departments, dtype=np.int64)
    counters = rng.integers(1, 40, size.organisations)
    for i, org in enumerate(dept_org):
        counters[org] += int(rng.integers(1, 4))  # numbering has gaps
        dept_no[i] = counters[org]
    dwellings = np.maximum(8, rng.lognormal(4.8, 0.6, size.departments).round()).astype(np.int64)

    first = np.datetime64(f"{size.first_year}-01-01")
    months_since_1955 = rng.integers(0, 50 * 12, size.departments)
    built = np.datetime64("1955-01-01") + (months_since_1955 * 30.4).astype("timedelta64[D]")
    built = built.astype("datetime64[M]").astype("datetime64[D]")  # first of a month
    new = rng.random(size.departments) < 0.03  # built during the period
    span = (np.datetime64(f"{size.last_year}-01-01") - first).astype(int)
    built[new] = (first + rng.integers(0, span, new.sum()).astype("timedelta64[D]")).astype(
        "datetime64[M]"
    )
    valid_from = built
    valid_to = np.full(size.departments, np.datetime64("NaT"), dtype="datetime64[D]")
    leaves = (rng.random(size.departments) < 0.04) & ~new
    valid_to[leaves] = (
        first + rng.integers(365, span, leaves.sum()).astype("timedelta64[D]")
    ).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    # A few that left join another area of the same municipality a year or more later.
    rejoin = np.flatnonzero(leaves & (rng.random(size.departments) < 0.15))
    rejoin = rejoin[valid_to[rejoin] < np.datetime64(f"{size.last_year - 1}-01-01")]
    moved_area = np.array(
        [
            rng.choice(np.flatnonzero(area_municipality == area_municipality[dept_area[i]]))
            for i in rejoin
        ],
        dtype=np.int64,
    )
    moved_from = (
        (valid_to[rejoin] + np.timedelta64(366, "D"))
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
    )
    return Reference(
        area_ids=area_ids,
        area_names=area_names,
        area_municipality=area_municipality,
        municipality_codes=municipality_codes,
        municipality_region=municipality_region,
        orgs=orgs,
        dept_org=np.concatenate([dept_org, dept_org[rejoin]]),
        dept_no=np.concatenate([dept_no, dept_no[rejoin]]),
        dept_area=np.concatenate([dept_area, moved_area]),
        dwellings=np.concatenate([dwellings, dwellings[rejoin]]),
        valid_from=np.concatenate([valid_from, moved_from]),
        valid_to=np.concatenate(
            [valid_to, np.full(len(rejoin), np.datetime64("NaT"), dtype="datetime64[D]")]
        ),
    )


def write_reference(ref: Reference, size: Size, seed: int, out: Path) -> None:
    rng = rng_for(seed, "reference-files")
    towns = _unique_names(rng, TOWN_SYLLABLES, len(ref.municipality_codes) * 2)
    area_rows = [
        (
            ref.area_ids[a],
            ref.area_names[a],
            towns[2 * m + int(rng.integers(0, 2))],
            ref.municipality_codes[m],
            REGIONS[ref.municipality_region[m]],
        )
        for a, m in enumerate(ref.area_municipality)
    ]
    _write(
        out / "reference/areas.csv",
        _csv_text(("area_id", "area_name", "town", "municipality_code", "region_code"), area_rows),
        bom=True,
    )
    rows = []
    for i in range(len(ref.dept_org)):
        name = f"{ref.area_names[ref.dept_area[i]]} {ref.dept_no[i]}"
        if i % 97 == 0:
            name = f"{STREETS[i % len(STREETS)]} {ref.dept_no[i]}; ældreboliger"
        to = ref.valid_to[i]
        rows.append(
            (
                ref.orgs[ref.dept_org[i]],
                str(ref.dept_no[i]),
                name,
                ref.area_ids[ref.dept_area[i]],
                str(ref.dwellings[i]),
                str(ref.valid_from[i]),
                "" if np.isnat(to) else str(to),
            )
        )
    header = (
        "housing_org",
        "department_no",
        "department_name",
        "area_id",
        "dwellings",
        "valid_from",
        "valid_to",
    )
    _write(out / "reference/departments.csv", _csv_text(header, rows), crlf=True)


def _valid_on(ref: Reference, day: np.datetime64) -> np.ndarray:
    return (ref.valid_from <= day) & (np.isnat(ref.valid_to) | (day <= ref.valid_to))


# ---------------------------------------------------------------- statistics


def write_statistics(ref: Reference, size: Size, seed: int, out: Path) -> int:
    rng = rng_for(seed, "statistics")
    n_areas = len(ref.area_ids)
    # Area profiles: unemployment, basic education, convicted, non-western share, income.
    profile = np.column_stack(
        [
            rng.uniform(0.2, 0.5, n_areas),
            rng.uniform(0.35, 0.7, n_areas),
            rng.uniform(0.008, 0.04, n_areas),
            rng.uniform(0.15, 0.7, n_areas),
            rng.uniform(120_000, 230_000, n_areas),
        ]
    )
    trend = rng.normal(-0.01, 0.01, (n_areas, 5))
    persons_per_dwelling = rng.uniform(1.6, 2.6, len(ref.dept_org))
    written = 0
    headers = (
        ("BOLIGORGANISATION", "AFDELING", "MÅL", "TID", "INDHOLD"),
        ("TID", "BOLIGORGANISATION", "AFDELING", "MÅL", "INDHOLD"),
        ("afdeling", "boligorganisation", "mål", "tid", "indhold"),
    )
    for year in range(size.first_year, size.last_year + 1):
        t = year - size.first_year
        jan1 = np.datetime64(f"{year}-01-01")
        rows_of = np.flatnonzero(_valid_on(ref, jan1))
        # A tabulation ordered before a sale was registered: a department that left last year.
        stale = np.flatnonzero(
            ~np.isnat(ref.valid_to)
            & (ref.valid_to < jan1)
            & (ref.valid_to >= jan1 - np.timedelta64(365, "D"))
        )
        rows_of = np.concatenate([rows_of, stale[: len(stale) // 3]])
        # A department that moved has two periods: keep one row per (org, no).
        keys = ref.dept_org[rows_of] * 100_000 + ref.dept_no[rows_of]
        rows_of = rows_of[np.unique(keys, return_index=True)[1]]
        n = len(rows_of)
        area = ref.dept_area[rows_of]
        p = np.clip(profile[area] * (1 + trend[area] * t) * rng.normal(1, 0.08, (n, 5)), 0, None)
        persons = ref.dwellings[rows_of] * persons_per_dwelling[rows_of]
        bef = np.round(persons * rng.normal(1, 0.03, n))
        b18plus = np.round(bef * rng.uniform(0.62, 0.72, n))
        b18_64 = np.minimum(b18plus, np.round(bef * rng.uniform(0.54, 0.62, n)))
        b30_59 = np.minimum(b18_64, np.round(bef * rng.uniform(0.34, 0.42, n)))
        indk_pers = np.round(bef * rng.uniform(0.45, 0.6, n))
        values = {
            "BEF": bef,
            "BEF_18_64": b18_64,
            "UDENFOR_18_64": np.round(b18_64 * np.minimum(p[:, 0], 1), 1),
            "BEF_30_59": b30_59,
            "GRUNDSKOLE_30_59": np.round(b30_59 * np.minimum(p[:, 1], 1)),
            "BEF_18PLUS": b18plus,
            "DOEMTE_18PLUS": rng.binomial(b18plus.astype(np.int64), np.minimum(p[:, 2], 1)),
            "IKKEVEST": np.round(bef * np.minimum(p[:, 3], 1)),
            "INDK_PERS_15_64": indk_pers,
            "INDK_SUM_15_64": np.round(indk_pers * p[:, 4] * (1.02**t)),
        }
        org = np.array(ref.orgs)[ref.dept_org[rows_of]]
        no = ref.dept_no[rows_of].astype(str)
        header = headers[year % len(headers)]
        lines = [";".join(header)]
        cells: dict[str, list[str]] = {}
        for maal in MAAL:
            v = values[maal]
            text = [_dk(x, 1) for x in v] if maal == "UDENFOR_18_64" else [str(int(x)) for x in v]
            # Danmarks Statistik suppresses small counts (and the income of small groups).
            small = (v > 0) & (v < 3) if maal != "INDK_SUM_15_64" else indk_pers < 5
            suppress = small & (rng.random(n) < 0.6)
            cells[maal] = [".." if s else x for s, x in zip(suppress, text, strict=True)]
        tid = str(year)
        for i in range(n):
            for maal in MAAL:
                row = {
                    "BOLIGORGANISATION": org[i],
                    "AFDELING": no[i],
                    "MÅL": maal,
                    "TID": tid,
                    "INDHOLD": cells[maal][i],
                }
                lines.append(";".join(row[h.upper()] for h in header))
        _write(
            out / f"statistics/area_statistics_{year}.csv",
            "\n".join(lines) + "\n",
            bom=year % 4 == 1,
            crlf=year % 3 == 0,
        )
        written += n * len(MAAL)
    return written


def write_benchmarks(ref: Reference, size: Size, seed: int, out: Path) -> None:
    rng = rng_for(seed, "benchmarks")
    rows = []
    base = np.array([0.75, 14.5, 25.0, 8.0, 300_000.0])
    for year in range(size.first_year, size.last_year + 1):
        t = year - size.first_year
        national = base * np.array([0.99, 0.985, 0.98, 1.03, 1.025]) ** t
        levels = [("land", "DK", national, BENCHMARK_MAAL)]
        for code in REGIONS[: size.regions]:
            levels.append(("region", code, national * rng.normal(1, 0.05, 5), BENCHMARK_MAAL[4:]))
        for code in ref.municipality_codes:
            levels.append(("kommune", code, national * rng.normal(1, 0.15, 5), BENCHMARK_MAAL))
        for level, code, values, maals in levels:
            for maal in maals:
                value = values[BENCHMARK_MAAL.index(maal)]
                cell = str(round(value)) if maal == "INDK_GNS_15_64" else _dk(value, 2)
                rows.append((str(year), level, code, maal, cell))
    _write(
        out / "statistics/benchmarks.csv",
        _csv_text(("TID", "NIVEAU", "KODE", "MÅL", "INDHOLD"), rows),
        bom=True,
    )


# ---------------------------------------------------------------- police


def write_police(ref: Reference, size: Size, seed: int, out: Path) -> int:
    rng = rng_for(seed, "police")
    n_areas = len(ref.area_ids)
    trygh = []
    for year in range(max(size.first_year, 2014), size.last_year + 1):
        trygh.append((str(year), "Hele landet", _dk(88 + rng.uniform(0, 2), 1)))
        trygh.append((str(year), "Alle udsatte områder", _dk(72 + rng.uniform(0, 5), 1)))
        for a in np.flatnonzero(rng.random(n_areas) < 0.8):  # not every area surveyed
            name = ref.area_names[a] if a % 11 else ref.area_names[a].upper()
            trygh.append((str(year), name, _dk(rng.uniform(55, 85), 1)))
    _write(out / "police/tryghedsindeks.csv", _csv_text(("år", "område", "indeks"), trygh))

    dwellings = np.bincount(ref.dept_area, weights=ref.dwellings, minlength=n_areas)
    weight = dwellings * rng.uniform(0.5, 1.5, n_areas)
    categories = np.array([c for c, _ in INCIDENT_CATEGORIES])
    cat_p = np.array([w for _, w in INCIDENT_CATEGORIES])
    years = range(size.first_year, size.last_year + 1)
    trend = np.linspace(1.2, 0.8, len(years))  # fewer incidents over the years
    per_year = rng.multinomial(size.incidents, trend / trend.sum())
    # Police spell area names as they like: other cases, stray spaces.
    spellings = np.array(
        [[n, n.lower(), n.upper(), f" {n} "] for n in ref.area_names], dtype=object
    )
    written = 0
    for year, n in zip(years, per_year, strict=True):
        days = (np.datetime64(f"{year + 1}-01-01") - np.datetime64(f"{year}-01-01")).astype(int)
        day = np.sort(rng.integers(0, days, n))
        dato = (np.datetime64(f"{year}-01-01") + day.astype("timedelta64[D]")).astype(str)
        dk = [f"{d[8:10]}-{d[5:7]}-{d[:4]}" for d in dato]
        area = rng.choice(n_areas, n, p=weight / weight.sum())
        spelling = np.where(rng.random(n) < 0.9, 0, rng.integers(1, 4, n))
        names = spellings[area, spelling]
        cats = categories[rng.choice(len(categories), n, p=cat_p / cat_p.sum())]
        rows = zip((f"{year}-{i:07d}" for i in range(1, n + 1)), dk, names, cats, strict=True)
        _write(
            out / f"police/incidents_{year}.csv",
            _csv_text(("anmeldelse_id", "dato", "område", "kategori"), rows),
            bom=year % 5 == 2,
            crlf=year % 4 == 3,
        )
        written += n
    return written


# ---------------------------------------------------------------- vandalism


@dataclass(frozen=True)
class LedgerStyle:
    encoding: str
    bom: bool
    crlf: bool
    thousands: bool
    drop_zero_ore: bool
    window: int  # months an export covers, ending with its period
    first_period: int  # month index (year * 12 + month - 1) of the first export
    header: tuple[str, ...]


def ledger_style(rng: np.random.Generator, size: Size) -> LedgerStyle:
    cp1252 = rng.random() < 0.3
    header = LEDGER_HEADER
    if rng.random() < 0.2:
        header = tuple(header[i] for i in rng.permutation(len(header)))
    if rng.random() < 0.2:
        header = tuple(h.lower() for h in header)
    first = size.first_year * 12
    late = rng.random() < 0.1  # joined the national delivery later
    return LedgerStyle(
        encoding="cp1252" if cp1252 else "utf-8",
        bom=not cp1252 and rng.random() < 0.25,
        crlf=rng.random() < 0.4,
        thousands=rng.random() < 0.5,
        drop_zero_ore=rng.random() < 0.3,
        window=int(rng.choice((1, 2, 3, 3))),
        first_period=first + (int(rng.integers(12, 72)) if late else 0),
        header=header,
    )


def _amounts(ore: np.ndarray, style: LedgerStyle) -> list[str]:
    return [fmt_amount(int(o), style.thousands, style.drop_zero_ore) for o in ore]


def _ledger_rows(
    org: str,
    dept_no: np.ndarray,
    case: np.ndarray,
    line: np.ndarray,
    day: np.ndarray,
    category: np.ndarray,
    text: np.ndarray,
    ore: np.ndarray,
    style: LedgerStyle,
) -> list[str]:
    """The lines as `;`-joined rows in the style's column order (texts already quoted)."""
    d = day.astype(str)
    columns = {
        "selskab": [org] * len(d),
        "afdeling": dept_no.astype(str).tolist(),
        "sagsnr": case.tolist(),
        "linje": line.astype(str).tolist(),
        "dato": [f"{x[8:10]}-{x[5:7]}-{x[:4]}" for x in d],
        "kategori": category.tolist(),
        "tekst": text.tolist(),
        "beløb": _amounts(ore, style),
    }
    ordered = [columns[h.lower()] for h in style.header]
    return [";".join(r) for r in zip(*ordered, strict=True)]


def write_vandalism(
    ref: Reference, size: Size, seed: int, out: Path, increment: Path
) -> tuple[int, int]:
    """Monthly exports per organisation up to December of the year before last_year
    (`out`), and the January after (`increment`). Returns (files, lines) of `out`."""
    last_period = (size.last_year - 1) * 12 + 11
    periods_total = last_period - size.first_year * 12 + 1
    styles = [ledger_style(rng_for(seed, f"style-{o}"), size) for o in ref.orgs]
    # Lines per export ≈ unique lines × window: aim the unique lines at the requested total.
    mean_window = np.mean([s.window for s in styles])
    unique_target = size.ledger_lines / (mean_window * 0.95)
    lines_per_case = 1.0 + 0.45 + 0.15 + 0.08  # follow-ups and credit lines on average
    case_rate = unique_target / lines_per_case / (ref.dwellings.sum() * periods_total)
    categories = np.array(list(REPAIRS))
    quoted_repairs = {c: np.array([_quote(t) for t in REPAIRS[c]]) for c in REPAIRS}
    follow_ups = np.array([_quote(t) for t in FOLLOW_UP_TEXTS])
    credits = np.array([_quote(t) for t in CREDIT_TEXTS])
    files = lines_written = 0
    for o, org in enumerate(ref.orgs):
        rng = rng_for(seed, f"ledger-{org}")
        style = styles[o]
        depts = np.flatnonzero(ref.dept_org == o)
        # Cases per department period and month, while the department belongs to its area.
        months = np.arange(style.first_period - style.window + 1, last_period + 2)
        month_start = (months // 12 - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (
            months % 12
        ).astype("timedelta64[M]")
        month_start = month_start.astype("datetime64[D]")
        starts, ends = ref.valid_from[depts, None], ref.valid_to[depts, None]
        valid = (starts <= month_start[None, :]) & (np.isnat(ends) | (month_start[None, :] <= ends))
        counts = rng.poisson(ref.dwellings[depts, None] * case_rate * valid)
        dept_idx, month_idx = np.nonzero(counts)
        reps = counts[dept_idx, month_idx]
        c_dept = np.repeat(depts[dept_idx], reps)
        c_month = np.repeat(months[month_idx], reps)
        c_start = np.repeat(month_start[month_idx], reps) + rng.integers(0, 28, len(c_dept)).astype(
            "timedelta64[D]"
        )
        n_cases = len(c_dept)
        if n_cases == 0:
            continue
        c_cat = rng.choice(len(categories), n_cases, p=[0.45, 0.2, 0.1, 0.25])
        c_lines = rng.choice((1, 2, 3), n_cases, p=(0.55, 0.3, 0.15))
        c_credit = rng.random(n_cases) < 0.08
        per_case = c_lines + c_credit
        # Case numbers: per organisation and year, in order of start.
        order = np.lexsort((c_dept, c_start))
        c_dept, c_month, c_start, c_cat, c_lines, c_credit, per_case = (
            a[order] for a in (c_dept, c_month, c_start, c_cat, c_lines, c_credit, per_case)
        )
        c_year = c_start.astype("datetime64[Y]").astype(int) + 1970
        first_of_year = np.r_[0, np.flatnonzero(np.diff(c_year)) + 1]
        seq = np.arange(n_cases) - np.repeat(first_of_year, np.diff(np.r_[first_of_year, n_cases]))
        case_no = np.char.add(
            np.char.add(np.char.mod("%02d", c_year % 100), "-"), np.char.mod("%05d", seq + 1)
        )
        # Lines: one row per case line, the credit line last.
        case_of = np.repeat(np.arange(n_cases), per_case)
        line = np.arange(len(case_of)) - np.repeat(np.cumsum(per_case) - per_case, per_case) + 1
        is_credit = c_credit[case_of] & (line == per_case[case_of])
        offset = np.where(line == 1, 0, rng.integers(1, 30, len(case_of)) * (line - 1))
        offset = np.where(is_credit, offset + rng.integers(10, 40, len(case_of)), offset)
        day = c_start[case_of] + offset.astype("timedelta64[D]")
        ore = np.round(rng.lognormal(6.75, 0.8, len(case_of))) * 100
        ore += np.where(rng.random(len(case_of)) < 0.2, rng.choice((25, 50, 75), len(case_of)), 0)
        first_ore = np.repeat(ore[np.cumsum(per_case) - per_case], per_case)
        ore = np.where(is_credit, -np.round(first_ore * rng.uniform(0.3, 1.0, len(case_of))), ore)
        cat = categories[c_cat[case_of]]
        text = np.empty(len(case_of), dtype=object)
        for c, name in enumerate(categories):
            first = (line == 1) & (c_cat[case_of] == c)
            text[first] = rng.choice(quoted_repairs[name], first.sum())
        follow = (line > 1) & ~is_credit
        text[follow] = rng.choice(follow_ups, follow.sum())
        text[is_credit] = rng.choice(credits, is_credit.sum())
        month = day.astype("datetime64[M]").astype(int) + 1970 * 12
        # Ledgers end with the last export (the increment's month is one more).
        keep = month <= last_period + 1
        # Later exports correct some lines: a new amount (and sometimes category).
        revised = (rng.random(len(case_of)) < 0.12) & (ore > 0) & (style.window > 1)
        new_ore = np.round(ore * rng.uniform(0.8, 1.35, len(case_of)) / 100) * 100
        new_cat = np.where((cat == "Hærværk") & (rng.random(len(case_of)) < 0.3), "Glas", cat)
        revised_from = month + rng.integers(1, max(style.window, 2), len(case_of))
        sort = np.lexsort((line, c_start[case_of], day))
        sort = sort[keep[sort]]
        args = (
            org,
            ref.dept_no[c_dept[case_of]][sort],
            case_no[case_of][sort],
            line[sort],
            day[sort],
        )
        rows_v1 = _ledger_rows(*args, cat[sort], text[sort], ore[sort], style)
        rows_v2 = _ledger_rows(*args, new_cat[sort], text[sort], new_ore[sort], style)
        month, revised, revised_from = month[sort], revised[sort], revised_from[sort]
        header = ";".join(style.header)
        for period in range(style.first_period, last_period + 2):
            lo, hi = np.searchsorted(month, [period - style.window + 1, period + 1])
            rows = [
                rows_v2[i] if revised[i] and revised_from[i] <= period else rows_v1[i]
                for i in range(lo, hi)
            ]
            if not rows:
                continue  # a month without vandalism: no export
            year, m = divmod(period, 12)
            folder = increment if period > last_period else out
            _write(
                folder / f"vandalism/{org}_{year}-{m + 1:02d}.csv",
                header + "\n" + "\n".join(rows) + "\n",
                encoding=style.encoding,
                bom=style.bom,
                crlf=style.crlf,
            )
            if folder is out:
                files += 1
                lines_written += len(rows)
    return files, lines_written


# ---------------------------------------------------------------- efforts


def write_efforts(ref: Reference, size: Size, seed: int, out: Path) -> int:
    rng = rng_for(seed, "efforts")
    rows = []
    years = range(max(size.first_year, 2017), size.last_year + 1)
    for year in years:
        n = rng.poisson(size.efforts_per_area_year, len(ref.area_ids))
        for a, count in enumerate(n):
            for k in range(min(int(count), len(EFFORT_NAMES))):
                projekt = rng.random() < 0.2
                fte = float(rng.choice((0.5, 1.0, 1.5, 2.0)))
                budget = int(np.round(fte * rng.uniform(480_000, 600_000) / 1000)) * 1000 * 100
                rows.append(
                    (
                        f"{ref.area_ids[a][:12]}-{k + 1}",
                        EFFORT_NAMES[k],
                        EFFORT_AREAS[k % len(EFFORT_AREAS)],
                        "projekt" if projekt else "drift",
                        ref.area_ids[a],
                        str(year),
                        _dk(fte, 1),
                        fmt_amount(budget, thousands=bool(rng.random() < 0.5)),
                    )
                )
        rows.append(
            (
                "FÆLLES-1",
                "Kompetencecenter: data og dokumentation",
                "Tryghed og trivsel",
                "drift",
                "FÆLLES",
                str(year),
                "2,0",
                fmt_amount(110_000_000, thousands=True),
            )
        )
    header = ("indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk", "budget_kr")
    _write(out / "efforts/indsatser.csv", _csv_text(header, rows))
    return len(rows)


# ---------------------------------------------------------------- output


@dataclass(frozen=True)
class Delivery:
    root: Path  # the cache entry

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def increment(self) -> Path:
        """The next month's ledger exports: copy into sources/vandalism/ to refresh with them."""
        return self.root / "increment"

    @property
    def summary(self) -> dict:
        return json.loads((self.root / "COMPLETE").read_text())


def cache_entry(size: Size, seed: int, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"v{VERSION}-seed{seed}-{size.name}"


def generate(size: Size = NATIONAL, seed: int = 42, cache: Path = DEFAULT_CACHE) -> Delivery:
    """The delivery for (version, seed, size), generated once and then taken from the cache."""
    root = cache_entry(size, seed, cache)
    delivery = Delivery(root)
    if (root / "COMPLETE").exists():
        return delivery
    if root.exists():
        shutil.rmtree(root)  # an interrupted generation
    started = time.perf_counter()
    sources, increment = root / "sources", root / "increment"
    for folder in ("reference", "statistics", "police", "vandalism", "efforts"):
        (sources / folder).mkdir(parents=True)
    (increment / "vandalism").mkdir(parents=True)
    ref = build_reference(size, seed)
    write_reference(ref, size, seed, sources)
    statistics = write_statistics(ref, size, seed, sources)
    write_benchmarks(ref, size, seed, sources)
    incidents = write_police(ref, size, seed, sources)
    ledger_files, ledger_lines = write_vandalism(ref, size, seed, sources, increment)
    efforts = write_efforts(ref, size, seed, sources)
    summary = {
        "version": VERSION,
        "seed": seed,
        "size": asdict(size),
        "areas": len(ref.area_ids),
        "department_periods": len(ref.dept_org),
        "statistics_rows": statistics,
        "incidents": incidents,
        "ledger_files": ledger_files,
        "ledger_lines": ledger_lines,
        "increment_files": len(list((increment / "vandalism").iterdir())),
        "efforts": efforts,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (root / "COMPLETE").write_text(json.dumps(summary, indent=2, default=int) + "\n")
    return delivery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="national")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=int, default=1, help="a delivery N times as large")
    parser.add_argument("--out", type=Path, default=DEFAULT_CACHE, help="cache directory")
    args = parser.parse_args()
    delivery = generate(SIZES[args.size].scaled(args.scale), args.seed, args.out)
    print(f"{delivery.sources}\n{json.dumps(delivery.summary, indent=2)}")


if __name__ == "__main__":
    main()
