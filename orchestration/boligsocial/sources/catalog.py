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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Lineage columns every raw table carries after its contract columns.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),  # path relative to the sources directory, '/' separated
    ("_source_sha256", "VARCHAR"),  # sha256 of the file's bytes
    ("_source_row", "INTEGER"),  # line (CSV) or sheet row (XLSX) number; the header is row 1
    ("_loaded_at", "TIMESTAMP"),  # UTC time the file's rows were first loaded
)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    system: str
    patterns: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    reader: str
    description: str
    optional: bool = False
    # At most one of the pattern's files may exist (indsatser.csv or .xlsx, not both).
    single_file: bool = False
    # Optional "module:function" reading many files at once (many small files): the rows the
    # reader gives for each, plus `_file_index`, the position of the row's file in the list.
    batch_reader: str | None = None

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

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
            if not p.name.startswith((".", "~$"))  # hidden: SOURCES.md
        }
        return sorted(found)

    def ddl_columns(self) -> str:
        return ", ".join(f'"{n}" {t}' for n, t in (*self.columns, *LINEAGE_COLUMNS))


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="areas",
        system="reference",
        patterns=("reference/areas.csv",),
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
        patterns=("reference/departments.csv",),
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
        description="Housing departments (afdelinger) and the area each belongs to, over time.",
    ),
    SourceSpec(
        name="official_list",
        system="reference",
        patterns=("reference/official_list.csv",),
        columns=(
            ("aar", "INTEGER"),
            ("omraade", "VARCHAR"),
            ("kategori", "VARCHAR"),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.reference:read_official_list",
        description="The lists the minister published (most severe category per area and year).",
        optional=True,
    ),
    SourceSpec(
        name="area_statistics",
        system="statistics",
        patterns=("statistics/area_statistics_[0-9][0-9][0-9][0-9].csv",),
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
        description="Danmarks Statistik tabulation per department and data year (long format).",
    ),
    SourceSpec(
        name="benchmarks",
        system="statistics",
        patterns=("statistics/benchmarks.csv",),
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
        patterns=("statbank/*.csv",),
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
        patterns=("police/tryghedsindeks.csv",),
        columns=(
            ("aar", "INTEGER"),
            ("omraade", "VARCHAR"),
            ("indeks", "DOUBLE"),
        ),
        key=("aar", "omraade"),
        reader="boligsocial.sources.police:read_tryghedsindeks",
        description="Police safety index (tryghedsindeks) per area and year, with benchmark rows.",
    ),
    SourceSpec(
        name="police_incidents",
        system="police",
        patterns=("police/incidents_[0-9][0-9][0-9][0-9].csv",),
        columns=(
            ("anmeldelse_id", "VARCHAR"),
            ("dato", "DATE"),
            ("omraade", "VARCHAR"),
            ("kategori", "VARCHAR"),
        ),
        key=("anmeldelse_id",),
        reader="boligsocial.sources.police:read_police_incidents",
        description="Police incident extracts, one file per year.",
    ),
    SourceSpec(
        name="vandalism_ledger",
        system="vandalism",
        patterns=("vandalism/*_[0-9][0-9][0-9][0-9]-[0-9][0-9].csv",),
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
        description="Housing organisations' repair-ledger lines coded as vandalism (hærværk).",
    ),
    SourceSpec(
        name="efforts",
        system="efforts",
        patterns=("efforts/indsatser.csv", "efforts/indsatser.xlsx"),
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
        description="The effort register (indsatser) behind the 80/20 split.",
        single_file=True,
    ),
)

SOURCES_BY_NAME: dict[str, SourceSpec] = {s.name: s for s in SOURCES}
