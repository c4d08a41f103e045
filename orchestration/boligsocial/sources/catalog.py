"""The ten sources of SOURCES.md: where their files live and the shape of their raw tables.

One source keeps one name in every layer: this catalog's `name` is the raw table
(`raw.<name>`), the Dagster asset key (`raw/<name>`), the GX suite
(`expectations/<name>.json`) and the reader function (`read_<name>`); `system` is the
folder of the sources directory, the reader module (`sources/<system>.py`), the Dagster
asset group and the dbt staging folder (`models/staging/<system>/`,
`stg_<system>__<entity>`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

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
class SourceSpec:
    name: str
    system: str
    # Where the source's files are and how they are named: "<folder>/<file name>", where a
    # `{part}` of the name is one of NAME_PARTS (organisation, period, year, table).
    layouts: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    reader: str
    description: str
    optional: bool = False
    # At most one of the pattern's files may exist (indsatser.csv or .xlsx, not both).
    single_file: bool = False
    # The raw tables this source's rules look up (its keys must be there): loaded first, and a
    # source whose reference cannot be read is not validated.
    references: tuple[str, ...] = ()
    # Optional "module:function" reading many files at once (many small files): the rows the
    # reader gives for each, plus `_file_index`, the position of the row's file in the list.
    batch_reader: str | None = None

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

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
        columns=(
            ("area_id", "VARCHAR"),
            ("area_name", "VARCHAR"),
            ("town", "VARCHAR"),
            ("municipality_code", "VARCHAR"),
            ("region_code", "VARCHAR"),
        ),
        key=("area_id",),
        reader="boligsocial.sources.reference:read_areas",
        description="Housing areas (boligområder): reference/areas.csv.",
    ),
    SourceSpec(
        name="departments",
        system="reference",
        layouts=("reference/departments.csv",),
        columns=(
            ("housing_org", "VARCHAR"),
            ("department_no", "INTEGER"),
            ("department_name", "VARCHAR"),
            ("area_id", "VARCHAR"),
            ("dwellings", "INTEGER"),
            ("valid_from", "DATE"),
            ("valid_to", "DATE"),
        ),
        key=("housing_org", "department_no", "valid_from"),
        reader="boligsocial.sources.reference:read_departments",
        references=("areas",),
        description="Housing departments (afdelinger) and the area each belongs to, over time.",
    ),
    SourceSpec(
        name="official_list",
        system="reference",
        layouts=("reference/official_list.csv",),
        columns=(
            ("aar", "INTEGER"),
            ("omraade", "VARCHAR"),
            ("kategori", "VARCHAR"),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.reference:read_official_list",
        references=("areas",),
        description="The lists the minister published (most severe category per area and year).",
        optional=True,
    ),
    SourceSpec(
        name="area_statistics",
        system="statistics",
        layouts=("statistics/area_statistics_{year}.csv",),
        columns=(
            ("boligorganisation", "VARCHAR"),
            ("afdeling", "INTEGER"),
            ("maal", "VARCHAR"),
            ("tid", "INTEGER"),
            ("indhold", "DOUBLE"),
            ("indhold_suppressed", "BOOLEAN"),
        ),
        key=("boligorganisation", "afdeling", "maal", "tid"),
        reader="boligsocial.sources.statistics:read_area_statistics",
        references=("departments",),
        description="Danmarks Statistik tabulation per department and data year (long format).",
    ),
    SourceSpec(
        name="benchmarks",
        system="statistics",
        layouts=("statistics/benchmarks.csv",),
        columns=(
            ("tid", "INTEGER"),
            ("niveau", "VARCHAR"),
            ("kode", "VARCHAR"),
            ("maal", "VARCHAR"),
            ("indhold", "DOUBLE"),
            ("indhold_suppressed", "BOOLEAN"),
        ),
        key=("tid", "niveau", "kode", "maal"),
        reader="boligsocial.sources.statistics:read_benchmarks",
        description="National, regional and municipal comparators (percent or DKK).",
    ),
    SourceSpec(
        name="statbank",
        system="statbank",
        layouts=("statbank/{table}.csv",),
        columns=(
            ("table_id", "VARCHAR"),
            ("dimensions", "VARCHAR"),  # JSON object {variable: value} of every column but TID
            ("tid", "VARCHAR"),  # StatBank time code as delivered: 2024, 2024K1, 2024M01
            ("indhold", "DOUBLE"),
            ("indhold_suppressed", "BOOLEAN"),
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
        columns=(
            ("aar", "INTEGER"),
            ("omraade", "VARCHAR"),
            ("indeks", "DOUBLE"),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.police:read_tryghedsindeks",
        references=("areas",),
        description="Police safety index (tryghedsindeks) per area and year, with benchmark rows.",
    ),
    SourceSpec(
        name="police_incidents",
        system="police",
        layouts=("police/incidents_{year}.csv",),
        columns=(
            ("anmeldelse_id", "VARCHAR"),
            ("dato", "DATE"),
            ("omraade", "VARCHAR"),
            ("kategori", "VARCHAR"),
        ),
        key=("anmeldelse_id",),
        reader="boligsocial.sources.police:read_police_incidents",
        references=("areas",),
        description="Police incident extracts, one file per year.",
    ),
    SourceSpec(
        name="vandalism_ledger",
        system="vandalism",
        layouts=("vandalism/{organisation}_{period}.csv",),
        columns=(
            ("selskab", "VARCHAR"),
            ("afdeling", "INTEGER"),
            ("sagsnr", "VARCHAR"),
            ("linje", "INTEGER"),
            ("dato", "DATE"),
            ("kategori", "VARCHAR"),
            ("tekst", "VARCHAR"),
            ("beloeb", "DECIMAL(18,2)"),
            ("export_period", "VARCHAR"),  # YYYY-MM from the file name
        ),
        # Exports overlap: raw keeps every line of every file; the models de-duplicate.
        key=("selskab", "sagsnr", "linje", "export_period"),
        reader="boligsocial.sources.vandalism:read_vandalism_ledger",
        batch_reader="boligsocial.sources.vandalism:read_many_vandalism_ledger",
        references=("departments",),
        description="Housing organisations' repair-ledger lines coded as vandalism (hærværk).",
    ),
    SourceSpec(
        name="efforts",
        system="efforts",
        layouts=("efforts/indsatser.csv", "efforts/indsatser.xlsx"),
        columns=(
            ("indsats_id", "VARCHAR"),
            ("navn", "VARCHAR"),
            ("indsatsomraade", "VARCHAR"),
            ("spor", "VARCHAR"),
            ("omraade", "VARCHAR"),
            ("aar", "INTEGER"),
            ("aarsvaerk", "DECIMAL(18,4)"),  # boligsocial.sources.efforts.FTE_SCALE
            ("budget_kr", "DECIMAL(18,2)"),
        ),
        key=("indsats_id", "omraade", "aar"),
        reader="boligsocial.sources.efforts:read_efforts",
        references=("areas",),
        description="The effort register (indsatser) behind the 80/20 split.",
        single_file=True,
    ),
)

SOURCES_BY_NAME: dict[str, SourceSpec] = {s.name: s for s in SOURCES}
# The sources other sources look up (areas, departments).
REFERENCE_SOURCES: frozenset[str] = frozenset(r for s in SOURCES for r in s.references)
