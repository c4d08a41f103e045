"""The ten sources of SOURCES.md: where their files live and the shape of their raw tables.

One source keeps one name in every layer: this catalog's `name` is the raw table
(`raw.<name>`), the Dagster asset key (`raw/<name>`), the GX suite
(`expectations/<name>.json`) and the reader function (`read_<name>`); `system` is the
folder of the sources directory, the reader module (`sources/<system>.py`), the Dagster
asset group and the dbt staging folder (`models/staging/<system>/`,
`stg_<system>__<entity>`).
"""

from __future__ import annotations

import csv
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boligsocial.sources.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd

# Lineage columns every raw table carries after its contract columns.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),  # path relative to the sources directory, '/' separated
    ("_source_sha256", "VARCHAR"),  # sha256 of the file's bytes
    ("_source_row", "INTEGER"),  # line (CSV) or sheet row (XLSX) number; the header is row 1
    ("_loaded_at", "TIMESTAMP"),  # UTC time the file's rows were first loaded
)


# A housing organisation's code (SOURCES.md: "letters and digits, no `_`"): any Unicode letter
# or digit, so Danish codes with æ, ø and å too. The readers, the suites and the templates'
# Table Schema take it from here.
ORGANISATION_CODE = r"[^\W_]+"


def is_hidden(name: str) -> bool:
    """Not part of a delivery (SOURCES.md): `.DS_Store`, macOS `._*` copies, Excel's `~$*` lock
    files, and a folder whose name starts so."""
    return name.startswith((".", "~$"))


@dataclass(frozen=True)
class NamePart:
    """A named part of a source's file name, as a listing's glob, as the reader's (stricter)
    regex, and as the contract writes it."""

    glob: str
    regex: str
    shown: str


NAME_PARTS: dict[str, NamePart] = {
    "organisation": NamePart("*", ORGANISATION_CODE, "<org>"),
    # The period's month is 01-12; the glob lets a month 13 through for the reader to name.
    "period": NamePart(
        "[0-9][0-9][0-9][0-9]-[0-9][0-9]", r"[0-9]{4}-(?:0[1-9]|1[0-2])", "<YYYY-MM>"
    ),
    "year": NamePart("[0-9][0-9][0-9][0-9]", "[0-9]{4}", "<YYYY>"),
    "table": NamePart("*", "[A-Za-z0-9_]+", "<TABLE>"),
}
_PART = re.compile(r"\{(\w+)\}")


def _glob_literal(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _file_name(
    layout: str, part: Callable[[str, NamePart], str], literal: Callable[[str], str]
) -> str:
    """`layout`'s file name (after its folder), each `{part}` in `part`'s form of it."""
    pieces = _PART.split(layout.rpartition("/")[2])  # literal, part name, literal, ...
    return "".join(
        part(piece, NAME_PARTS[piece]) if i % 2 else literal(piece)
        for i, piece in enumerate(pieces)
    )


@dataclass(frozen=True)
class Column:
    """A contract column of a raw table: the one declaration the readers, the GX suites'
    column rules, dbt's source yml and the templates take (see `boligsocial.sources.generate`)."""

    name: str
    type: str  # DuckDB type of the raw table
    header: str | None  # as the file's header row names it; None: not a column of the file
    description: str  # English: dbt docs, the UI
    description_da: str  # Danish: the templates, for the people who fill the files in
    pattern: str | None = None  # a regex every value matches


@dataclass(frozen=True)
class SourceSpec:
    name: str
    system: str
    # Where the source's files are and how they are named: "<folder>/<file name>", where a
    # `{part}` of the name is one of NAME_PARTS (organisation, period, year, table).
    layouts: tuple[str, ...]
    schema: tuple[Column, ...]
    key: tuple[str, ...]
    reader: str
    description: str
    optional: bool = False
    # At most one of the pattern's files may exist (indsatser.csv or .xlsx, not both).
    single_file: bool = False
    # The raw tables this source's rules look up (its keys must be there): loaded first, and a
    # source whose reference cannot be read is not validated.
    references: tuple[str, ...] = ()
    # Optional "module:function" adding the derived columns the source's suite checks to a
    # chunk of its rows (`(frame, reference) -> frame`, boligsocial.sources.derived).
    derive: str | None = None
    # Optional "module:function" reading many files at once (many small files): the rows the
    # reader gives for each, plus `_file_index`, the position of the row's file in the list.
    batch_reader: str | None = None

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of each contract column, in order."""
        return tuple((c.name, c.type) for c in self.schema)

    @property
    def headers(self) -> dict[str, str]:
        """Column name -> the file's header, for the columns the file has."""
        return {c.name: c.header for c in self.schema if c.header is not None}

    @property
    def patterns(self) -> tuple[str, ...]:
        """The layouts as globs relative to the sources directory (wildcards in names only)."""
        return tuple(
            f"{layout.rpartition('/')[0]}/{_file_name(layout, lambda _, p: p.glob, _glob_literal)}"
            for layout in self.layouts
        )

    @property
    def shown_names(self) -> tuple[str, ...]:
        """The file names as the contract writes them: `<org>_<YYYY-MM>.csv`."""
        return tuple(_file_name(layout, lambda _, p: p.shown, str) for layout in self.layouts)

    @cached_property
    def name_regex(self) -> re.Pattern[str]:
        """The file name with a named group per part (`(?P<organisation>...)`), of the layout
        that has parts (one per source at most)."""
        [layout] = [layout for layout in self.layouts if _PART.search(layout)]
        return re.compile(_file_name(layout, lambda name, p: f"(?P<{name}>{p.regex})", re.escape))

    def name_parts(self, path: Path) -> dict[str, str]:
        """The named parts of the file's name; a name that is not the source's is the file's
        error."""
        found = self.name_regex.fullmatch(path.name)
        if found is None:
            shown = " / ".join(self.shown_names)
            raise SourceError(
                str(path), None, None, kind="file_name", name=path.name, pattern=shown
            )
        return found.groupdict()

    def read(self, path: Path) -> pd.DataFrame:
        module, function = self.reader.split(":")
        reader: Callable[[Path], pd.DataFrame] = getattr(importlib.import_module(module), function)
        return reader(path)

    def derive_columns(self, frame: pd.DataFrame, reference: Any) -> pd.DataFrame:
        """`frame` with the derived columns its suite checks (`derive`), looked up in
        `reference` (boligsocial.validation.reference.Reference) where a rule needs it."""
        if self.derive is None:
            return frame
        module, function = self.derive.split(":")
        return getattr(importlib.import_module(module), function)(frame, reference)

    def read_many(self, paths: list[Path]) -> pd.DataFrame:
        """The rows of many files, with `_file_index`; the batch reader when there is one."""
        if self.batch_reader is None:
            import pandas as pd  # not at module level: the code location loads this module

            frames = [self.read(p).assign(_file_index=i) for i, p in enumerate(paths)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        module, function = self.batch_reader.split(":")
        return getattr(importlib.import_module(module), function)(paths)

    def files(self, sources_dir: Path) -> list[Path]:
        found = {
            p
            for pattern in self.patterns
            for p in sources_dir.glob(pattern)
            if not is_hidden(p.name)
        }
        return sorted(found)

    def ddl_columns(self) -> str:
        return ", ".join(f'"{n}" {t}' for n, t in (*self.columns, *LINEAGE_COLUMNS))


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="areas",
        system="reference",
        layouts=("reference/areas.csv",),
        schema=(
            Column(
                "area_id",
                "VARCHAR",
                "area_id",
                "Stable key of the area, `[A-Z0-9_]+`, e.g. `RINGPARKEN`.",
                "stabil nøgle: store bogstaver, cifre og _",
            ),
            Column(
                "area_name",
                "VARCHAR",
                "area_name",
                "Name of the area (boligområde) as used by the police and in reports; unique "
                "ignoring case.",
                "områdets navn, som politiet og rapporten bruger det",
            ),
            Column("town", "VARCHAR", "town", "Town (by) the area lies in.", "by"),
            Column(
                "municipality_code",
                "VARCHAR",
                "municipality_code",
                "DST municipality code (kommunekode), 3 digits, e.g. `101` (København).",
                "Danmarks Statistiks kommunekode, 3 cifre",
            ),
            Column(
                "region_code",
                "VARCHAR",
                "region_code",
                "DST region code (regionskode), 4 digits; Region Sjælland = `1085`.",
                "Danmarks Statistiks regionskode, 4 cifre",
            ),
        ),
        key=("area_id",),
        reader="boligsocial.sources.reference:read_areas",
        derive="boligsocial.sources.reference:derive_areas",
        description="Housing areas (boligområder): reference/areas.csv.",
    ),
    SourceSpec(
        name="departments",
        system="reference",
        layouts=("reference/departments.csv",),
        schema=(
            Column(
                "housing_org",
                "VARCHAR",
                "housing_org",
                "Housing organisation code (boligorganisation), e.g. `FOB`.",
                "boligorganisationens kode (bogstaver og cifre)",
                pattern=ORGANISATION_CODE,
            ),
            Column(
                "department_no",
                "INTEGER",
                "department_no",
                "Department number (afdelingsnummer) within the organisation.",
                "afdelingsnummer i organisationen",
            ),
            Column(
                "department_name",
                "VARCHAR",
                "department_name",
                "Name of the department (afdeling).",
                "afdelingens navn",
            ),
            Column(
                "area_id",
                "VARCHAR",
                "area_id",
                "The area the department belongs to in this period; must exist in areas.",
                "området (area_id fra reference/areas.csv)",
            ),
            Column(
                "dwellings",
                "INTEGER",
                "dwellings",
                "Number of dwellings (boliger), ≥ 0.",
                "antal boliger",
            ),
            Column(
                "valid_from",
                "DATE",
                "valid_from",
                "First day the department belongs to the area.",
                "første dag afdelingen hører til området",
            ),
            Column(
                "valid_to",
                "DATE",
                "valid_to",
                "Last day (inclusive) it belongs to the area; NULL = still belongs.",
                "sidste dag (tom: hører stadig til)",
            ),
        ),
        key=("housing_org", "department_no", "valid_from"),
        reader="boligsocial.sources.reference:read_departments",
        derive="boligsocial.sources.reference:derive_departments",
        references=("areas",),
        description="Housing departments (afdelinger) and the area each belongs to, over time.",
    ),
    SourceSpec(
        name="official_list",
        system="reference",
        layouts=("reference/official_list.csv",),
        schema=(
            Column(
                "aar",
                "INTEGER",
                "år",
                "List year (år), 4 digits: the list published on 1 December of år, compared with "
                "data year år.",
                "listeåret (4 cifre): listen offentliggjort 1. december i år",
            ),
            Column(
                "omraade",
                "VARCHAR",
                "område",
                "Area (område): an area_name of areas.csv (any case, untrimmed).",
                "area_name fra reference/areas.csv",
            ),
            Column(
                "kategori",
                "VARCHAR",
                "kategori",
                "The most severe category the area had on that year's lists: a category code of "
                "ruleset_categories.csv of a ruleset in force in år.",
                "den strengeste kategori området havde på årets lister (kategorikode fra "
                "ruleset_categories.csv)",
            ),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.reference:read_official_list",
        derive="boligsocial.sources.reference:derive_official_list",
        references=("areas",),
        description="The lists the minister published, as the municipality reads them: "
        "reference/official_list.csv (optional; empty when not delivered).",
        optional=True,
    ),
    SourceSpec(
        name="area_statistics",
        system="statistics",
        layouts=("statistics/area_statistics_{year}.csv",),
        schema=(
            Column(
                "boligorganisation",
                "VARCHAR",
                "BOLIGORGANISATION",
                "Housing organisation code (BOLIGORGANISATION).",
                "boligorganisationens kode",
            ),
            Column(
                "afdeling",
                "INTEGER",
                "AFDELING",
                "Department number (AFDELING).",
                "afdelingsnummer",
            ),
            Column(
                "maal",
                "VARCHAR",
                "MÅL",
                "The measure (MÅL), e.g. `BEF` or `UDENFOR_18_64`.",
                "MÅL-koden (se kildekontrakten)",
            ),
            Column(
                "tid",
                "INTEGER",
                "TID",
                "The data year (TID); equals the year in the file name.",
                "dataåret; skal være året i filnavnet",
            ),
            Column(
                "indhold",
                "DOUBLE",
                "INDHOLD",
                "The value (INDHOLD), decimal comma parsed; NULL when suppressed.",
                "værdien med decimalkomma, eller .. (diskretioneret)",
            ),
            Column(
                "indhold_suppressed",
                "BOOLEAN",
                None,
                "True when the cell was `..` (suppressed by the statistics office).",
                "sand, når cellen var .. (diskretioneret)",
            ),
        ),
        key=("boligorganisation", "afdeling", "maal", "tid"),
        reader="boligsocial.sources.statistics:read_area_statistics",
        derive="boligsocial.sources.statistics:derive_area_statistics",
        references=("departments",),
        description="Danmarks Statistik tabulation per department and data year (long format).",
    ),
    SourceSpec(
        name="benchmarks",
        system="statistics",
        layouts=("statistics/benchmarks.csv",),
        schema=(
            Column("tid", "INTEGER", "TID", "The data year (TID).", "dataåret"),
            Column(
                "niveau",
                "VARCHAR",
                "NIVEAU",
                "Level (NIVEAU) - `land`, `region` or `kommune`.",
                "land, region eller kommune",
            ),
            Column(
                "kode",
                "VARCHAR",
                "KODE",
                "Geography code (KODE) - `DK`, a region code or a municipality code.",
                "DK, regionskode (4 cifre) eller kommunekode (3 cifre)",
            ),
            Column(
                "maal",
                "VARCHAR",
                "MÅL",
                "The benchmark measure (MÅL); `*_PCT*` in percent, INDK_GNS_15_64 in DKK.",
                "sammenligningskoden",
            ),
            Column(
                "indhold",
                "DOUBLE",
                "INDHOLD",
                "The value (INDHOLD); NULL when suppressed.",
                "procent (0,68 betyder 0,68 %) eller kr.",
            ),
            Column(
                "indhold_suppressed",
                "BOOLEAN",
                None,
                "True when the cell was `..` (suppressed).",
                "sand, når cellen var .. (diskretioneret)",
            ),
        ),
        key=("tid", "niveau", "kode", "maal"),
        reader="boligsocial.sources.statistics:read_benchmarks",
        derive="boligsocial.sources.statistics:derive_benchmarks",
        description="National, regional and municipal comparators (percent or DKK).",
    ),
    SourceSpec(
        name="statbank",
        system="statbank",
        layouts=("statbank/{table}.csv",),
        schema=(
            Column(
                "table_id",
                "VARCHAR",
                None,
                "StatBank table id, from the file name, e.g. `FOLK1E`.",
                "Statistikbankens tabel-id, fra filnavnet",
            ),
            Column(
                "dimensions",
                "VARCHAR",
                None,
                "JSON object {variable: value} of every column of the response but TID and "
                "INDHOLD.",
                "JSON-objekt {variabel: værdi} med alle svarets kolonner undtagen TID og INDHOLD",
            ),
            Column(
                "tid",
                "VARCHAR",
                None,
                "StatBank time code as delivered - 2024, 2024K1, 2024M01.",
                "Statistikbankens tidskode som leveret: 2024, 2024K1, 2024M01",
            ),
            Column(
                "indhold",
                "DOUBLE",
                None,
                "The value (INDHOLD); NULL when suppressed.",
                "værdien (INDHOLD); tom, når den er diskretioneret",
            ),
            Column(
                "indhold_suppressed",
                "BOOLEAN",
                None,
                "True when the cell was `..` (suppressed).",
                "sand, når cellen var .. (diskretioneret)",
            ),
        ),
        key=("table_id", "dimensions", "tid"),
        reader="boligsocial.sources.statbank:read_statbank",
        description="Cached StatBank API responses (municipal context series), long format.",
        optional=True,
    ),
    SourceSpec(
        name="tryghedsindeks",
        system="police",
        layouts=("police/tryghedsindeks.csv",),
        schema=(
            Column("aar", "INTEGER", "år", "Survey year (år), 4 digits.", "år"),
            Column(
                "omraade",
                "VARCHAR",
                "område",
                "Place (område): an area_name of areas.csv (any case, untrimmed) or a benchmark "
                "row `Hele landet` / `Alle udsatte områder`.",
                "area_name fra reference/areas.csv, Hele landet eller Alle udsatte områder",
            ),
            Column(
                "indeks",
                "DOUBLE",
                "indeks",
                "Safety index (tryghedsindeks), 0-100.",
                "tryghedsindeks 0–100 med decimalkomma",
            ),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.police:read_tryghedsindeks",
        derive="boligsocial.sources.police:derive_tryghedsindeks",
        references=("areas",),
        description="Police safety index (tryghedsindeks) per area and year, with benchmark rows.",
    ),
    SourceSpec(
        name="police_incidents",
        system="police",
        layouts=("police/incidents_{year}.csv",),
        schema=(
            Column(
                "anmeldelse_id",
                "VARCHAR",
                "anmeldelse_id",
                "Police report id, unique across all years.",
                "anmeldelsens id, entydigt på tværs af alle år",
            ),
            Column(
                "dato",
                "DATE",
                "dato",
                "Incident date (dato); its year equals the file name year.",
                "dato DD-MM-ÅÅÅÅ i filnavnets år",
            ),
            Column(
                "omraade",
                "VARCHAR",
                "område",
                "Place (område): an area_name of areas.csv (any case, untrimmed).",
                "area_name fra reference/areas.csv",
            ),
            Column(
                "kategori",
                "VARCHAR",
                "kategori",
                "Incident category (kategori), free text; `Påsat brand` is arson.",
                "anmeldelsens kategori (Påsat brand tælles for sig)",
            ),
        ),
        key=("anmeldelse_id",),
        reader="boligsocial.sources.police:read_police_incidents",
        derive="boligsocial.sources.police:derive_police_incidents",
        references=("areas",),
        description="Police incident extracts, one file per year.",
    ),
    SourceSpec(
        name="vandalism_ledger",
        system="vandalism",
        layouts=("vandalism/{organisation}_{period}.csv",),
        schema=(
            Column(
                "selskab",
                "VARCHAR",
                "Selskab",
                "Housing organisation code (selskab), equal to the file name org.",
                "boligorganisationens kode; skal være <org> i filnavnet",
            ),
            Column(
                "afdeling",
                "INTEGER",
                "Afdeling",
                "Department number (afdeling).",
                "afdelingsnummer",
            ),
            Column("sagsnr", "VARCHAR", "Sagsnr", "Case number (sagsnr), text.", "sagsnummer"),
            Column(
                "linje",
                "INTEGER",
                "Linje",
                "Line number (linje) within the case.",
                "linjenummer i sagen",
            ),
            Column(
                "dato",
                "DATE",
                "Dato",
                "Date of the repair line (dato).",
                "reparationslinjens dato DD-MM-ÅÅÅÅ",
            ),
            Column(
                "kategori",
                "VARCHAR",
                "Kategori",
                "Ledger category (kategori), e.g. `Hærværk`, `Graffiti`, `Brand`, `Glas`.",
                "fx Hærværk, Graffiti, Brand, Glas",
            ),
            Column("tekst", "VARCHAR", "Tekst", "Free text of the line (tekst).", "fritekst"),
            Column(
                "beloeb",
                "DECIMAL(18,2)",
                "Beløb",
                "Amount (beløb) in DKK; negative for credit notes and refunds.",
                "beløb i kr. (negativt ved kreditering)",
            ),
            Column(
                "export_period",
                "VARCHAR",
                None,
                "Export period YYYY-MM from the file name; the latest wins when a line is in "
                "several exports.",
                "eksportperioden ÅÅÅÅ-MM fra filnavnet",
            ),
        ),
        # Exports overlap: raw keeps every line of every file; the models de-duplicate.
        key=("selskab", "sagsnr", "linje", "export_period"),
        reader="boligsocial.sources.vandalism:read_vandalism_ledger",
        derive="boligsocial.sources.vandalism:derive_vandalism_ledger",
        batch_reader="boligsocial.sources.vandalism:read_many_vandalism_ledger",
        references=("departments",),
        description="Housing organisations' repair-ledger lines coded as vandalism (hærværk).",
    ),
    SourceSpec(
        name="efforts",
        system="efforts",
        layouts=("efforts/indsatser.csv", "efforts/indsatser.xlsx"),
        schema=(
            Column(
                "indsats_id", "VARCHAR", "indsats_id", "Effort id (indsats_id).", "indsatsens id"
            ),
            Column("navn", "VARCHAR", "navn", "Name of the effort (navn).", "indsatsens navn"),
            Column(
                "indsatsomraade",
                "VARCHAR",
                "indsatsområde",
                "Effort area (indsatsområde), free text.",
                "indsatsområde",
            ),
            Column(
                "spor",
                "VARCHAR",
                "spor",
                "Track (spor): `drift` (operations, the 80 %) or `projekt` (project, the 20 %).",
                "drift (de 80 %) eller projekt (de 20 %)",
            ),
            Column(
                "omraade",
                "VARCHAR",
                "område",
                "Area (område): an area_id of areas.csv or `FÆLLES` (shared by all areas).",
                "area_id, eller FÆLLES for en fælles indsats",
            ),
            Column(
                "aar",
                "INTEGER",
                "år",
                "Year the resources are spent (år).",
                "året ressourcerne bruges",
            ),
            Column(
                "aarsvaerk",
                "DECIMAL(18,4)",
                "årsværk",
                "Full-time equivalents (årsværk), exact to 1/10,000.",
                "årsværk med decimalkomma, ≥ 0",
            ),  # efforts.FTE_SCALE
            Column(
                "budget_kr",
                "DECIMAL(18,2)",
                "budget_kr",
                "Budget in DKK (budget_kr).",
                "budget i kr., ≥ 0",
            ),
        ),
        key=("indsats_id", "omraade", "aar"),
        reader="boligsocial.sources.efforts:read_efforts",
        derive="boligsocial.sources.efforts:derive_efforts",
        references=("areas",),
        description="The effort register (indsatser) behind the 80/20 split.",
        single_file=True,
    ),
)

SOURCES_BY_NAME: dict[str, SourceSpec] = {s.name: s for s in SOURCES}


@cache
def maal_codes(source: str) -> tuple[str, ...]:
    """The MÅL codes of `source` (area_statistics, benchmarks), in order, from their one
    declaration: the dbt seed maal_codes, which the staging models' tests read in the warehouse."""
    from boligsocial.configuration import settings

    seed = settings.DBT_PROJECT_DIR / "seeds" / "maal_codes.csv"
    with seed.open(encoding="utf-8", newline="") as f:
        return tuple(row["code"] for row in csv.DictReader(f) if row["source"] == source)


# The sources other sources look up (areas, departments).
REFERENCE_SOURCES: frozenset[str] = frozenset(r for s in SOURCES for r in s.references)
