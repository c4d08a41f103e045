"""`boligsocial templates OUT`: an empty template of every source file, and its Table Schema.

For every source of the catalog (sources/catalog.py) with a file layout fixed by the contract:
the file as a delivery holds it (header row as the reader expects it; the effort register as
an XLSX workbook, with data validation and number formats, in `levering/` laid out as a
delivery; its CSV form in `alternativ/`), and a frictionless Table
Schema (`schemas/<source>.schema.json`) with each column's type, format, constraints, Danish
description and an example value, so that a housing organisation can check an export in its
own tools. `datapackage.json` ties the templates to their schemas with the CSV dialect.
An optional source's template (the official list) is in `valgfri/`, laid out as a delivery: a
delivery holds it only when the municipality has the list. `boligsocial.toml` is the
installation's configuration with every key commented out at its default.

The contract's CSV has no comment lines (every line after the header is data), so a CSV
template holds the header only; its example row is in the schema (`example` per field, and
`x-example-row`) and, in the workbook, in each header cell's comment.

The StatBank cache (statbank/<TABLE>.csv) has no template: its columns are the variables of
each StatBank table, and the StatBank client writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boligsocial.configuration import config
from boligsocial.configuration import reference as config_reference
from boligsocial.sources import efforts, police, reference, statistics, vandalism
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME, maal_codes

# Table Schema field descriptors per kind of cell, as the readers parse them (sources/_csv.py).
# A `pattern` constraint only applies to strings (Table Schema v1), so the patterns are on the
# kinds kept as strings: a statistic (a number or `..`).
_DECIMAL = r"-?[0-9]+(,[0-9]+)?"
KINDS: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "constraints": {"required": True}},
    "free_text": {"type": "string"},
    "integer": {"type": "integer", "constraints": {"required": True}},
    "year": {
        "type": "integer",
        "constraints": {"required": True, "minimum": 1900, "maximum": 2100},
    },
    "decimal": {"type": "number", "decimalChar": ",", "constraints": {"required": True}},
    # A statistic: a number with decimal comma, or `..` (suppressed by the statistics office).
    "statistic": {
        "type": "string",
        "constraints": {"required": True, "pattern": rf"{_DECIMAL}|\.\."},
    },
    # Thousands separator optional: 1.234,50 and 1234,50 are the same amount.
    "amount": {
        "type": "number",
        "decimalChar": ",",
        "groupChar": ".",
        "constraints": {"required": True},
    },
    "dk_date": {"type": "date", "format": "%d-%m-%Y", "constraints": {"required": True}},
    "iso_date": {"type": "date", "constraints": {"required": True}},
    "optional_iso_date": {"type": "date"},
}


@dataclass(frozen=True)
class Column:
    raw: str  # the catalog's column (its header and Danish description are the catalog's)
    kind: str  # a key of KINDS
    example: str  # as the file holds it
    constraints: Mapping[str, Any] | None = None  # beyond the kind's


@dataclass(frozen=True)
class Template:
    file: str  # where the template goes, in the layout of a delivery
    headers: Mapping[str, str]  # raw column -> header (the reader's)
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # raw columns of the key within the file
    description: str
    encoding: str = "utf-8"


SPOR = ("drift", "projekt")

TEMPLATES: dict[str, Template] = {
    "areas": Template(
        "reference/areas.csv",
        reference.AREA_COLUMNS,
        (
            Column(
                "area_id",
                "text",
                "NORDPARKEN",
                {"pattern": "[A-Z0-9_]+", "unique": True},
            ),
            Column(
                "area_name",
                "text",
                "Nordparken",
            ),
            Column("town", "text", "Eksempelby"),
            Column(
                "municipality_code",
                "text",
                "999",
                {"pattern": "[0-9]{3}"},
            ),
            Column(
                "region_code",
                "text",
                "1085",
                {"pattern": "[0-9]{4}"},
            ),
        ),
        ("area_id",),
        "Boligområderne.",
    ),
    "departments": Template(
        "reference/departments.csv",
        reference.DEPARTMENT_COLUMNS,
        (
            Column("housing_org", "text", "ORG"),
            Column("department_no", "integer", "1", {"minimum": 1}),
            Column("department_name", "text", "Nordparken I"),
            Column("area_id", "text", "NORDPARKEN"),
            Column("dwellings", "integer", "250", {"minimum": 0}),
            Column("valid_from", "iso_date", "2010-01-01"),
            Column("valid_to", "optional_iso_date", ""),
        ),
        ("housing_org", "department_no", "valid_from"),
        "Afdelingerne og det område, hver hører til, over tid.",
    ),
    "official_list": Template(
        "reference/official_list.csv",
        reference.OFFICIAL_LIST_COLUMNS,
        (
            Column("aar", "year", "2024"),
            Column("omraade", "text", "Nordparken"),
            Column("kategori", "text", "udsat"),
        ),
        ("aar", "omraade"),
        "Valgfri: de lister, ministeren har offentliggjort, som kommunen læser dem (én række pr. "
        "område og listeår, områdets strengeste kategori). Uden filen sammenlignes den beregnede "
        "status ikke med listen.",
    ),
    "area_statistics": Template(
        "statistics/area_statistics_2024.csv",
        statistics.AREA_STATISTICS_COLUMNS,
        (
            Column("boligorganisation", "text", "ORG"),
            Column("afdeling", "integer", "1"),
            Column("maal", "text", "BEF", {"enum": list(maal_codes("area_statistics"))}),
            Column("tid", "year", "2024"),
            Column("indhold", "statistic", "412"),
        ),
        ("boligorganisation", "afdeling", "maal", "tid"),
        "Danmarks Statistiks tabulering pr. afdeling for ét dataår (langt format); "
        "filnavnet er area_statistics_<ÅÅÅÅ>.csv.",
    ),
    "benchmarks": Template(
        "statistics/benchmarks.csv",
        statistics.BENCHMARK_COLUMNS,
        (
            Column("tid", "year", "2024"),
            Column(
                "niveau",
                "text",
                "land",
                {"enum": ["land", "region", "kommune"]},
            ),
            Column("kode", "text", "DK"),
            Column("maal", "text", "IKKEVEST_PCT", {"enum": list(maal_codes("benchmarks"))}),
            Column("indhold", "statistic", "9,6"),
        ),
        ("tid", "niveau", "kode", "maal"),
        "Landets, regionens og kommunens tal til sammenligning.",
    ),
    "tryghedsindeks": Template(
        "police/tryghedsindeks.csv",
        police.TRYGHEDSINDEKS_COLUMNS,
        (
            Column("aar", "year", "2024"),
            Column(
                "omraade",
                "text",
                "Nordparken",
            ),
            Column(
                "indeks",
                "decimal",
                "61,4",
                {"minimum": 0, "maximum": 100},
            ),
        ),
        ("aar", "omraade"),
        "Politiets tryghedsindeks pr. område og år.",
    ),
    "police_incidents": Template(
        "police/incidents_2024.csv",
        police.INCIDENT_COLUMNS,
        (
            Column(
                "anmeldelse_id",
                "text",
                "ANM-2024-00001",
                {"unique": True},
            ),
            Column("dato", "dk_date", "15-03-2024"),
            Column("omraade", "text", "Nordparken"),
            Column("kategori", "text", "Hærværk"),
        ),
        ("anmeldelse_id",),
        "Politiets udtræk af anmeldelser for ét år; filnavnet er incidents_<ÅÅÅÅ>.csv.",
    ),
    "vandalism_ledger": Template(
        "vandalism/ORG_2024-01.csv",
        vandalism.LEDGER_COLUMNS,
        (
            Column("selskab", "text", "ORG"),
            Column("afdeling", "integer", "1"),
            Column("sagsnr", "text", "S-1001"),
            Column("linje", "integer", "1", {"minimum": 1}),
            Column("dato", "dk_date", "12-01-2024"),
            Column("kategori", "text", "Graffiti"),
            Column("tekst", "free_text", "Afrensning af graffiti"),
            Column("beloeb", "amount", "1.234,50"),
        ),
        ("selskab", "sagsnr", "linje"),
        "En boligorganisations eksport af hærværksposteringer for én periode; filnavnet er "
        "<org>_<ÅÅÅÅ-MM>.csv. UTF-8 eller Windows-1252.",
    ),
    "efforts": Template(
        "efforts/indsatser.csv",
        efforts.EFFORT_COLUMNS,
        (
            Column("indsats_id", "text", "IND-01"),
            Column("navn", "text", "Lektiecafé"),
            Column("indsatsomraade", "text", "Uddannelse og beskæftigelse"),
            Column(
                "spor",
                "text",
                "drift",
                {"enum": list(SPOR)},
            ),
            Column("omraade", "text", "NORDPARKEN"),
            Column("aar", "year", "2024"),
            Column("aarsvaerk", "decimal", "1,5", {"minimum": 0}),
            Column("budget_kr", "amount", "450.000,00", {"minimum": 0}),
        ),
        ("indsats_id", "omraade", "aar"),
        "Indsatsregistret bag 80/20-fordelingen (indsatser.csv eller indsatser.xlsx).",
    ),
}
# OUT/levering/ is laid out as a delivery; the effort register there is the workbook, its CSV
# form (a delivery holds one of the two) is in OUT/alternativ/, the optional sources' templates
# in OUT/valgfri/.
DELIVERY_DIR = "levering"
ALTERNATIVE_DIR = "alternativ"
OPTIONAL_DIR = "valgfri"
XLSX_FILE = "efforts/indsatser.xlsx"
XLSX_ROWS = 1000  # rows of the workbook with data validation
# Number formats of the workbook (Excel shows them with the user's decimal comma).
XLSX_FORMATS = {"aar": "0", "aarsvaerk": "0.0#", "budget_kr": "#,##0.00"}


def _described(name: str) -> dict[str, str]:
    """The source's Danish column descriptions, from the catalog."""
    return {c.name: c.description_da for c in SOURCES_BY_NAME[name].schema}


def _patterns(name: str) -> dict[str, str]:
    """The catalog's value patterns of the source's columns (the organisation code)."""
    return {c.name: c.pattern for c in SOURCES_BY_NAME[name].schema if c.pattern}


def schema(name: str) -> dict[str, Any]:
    """The frictionless Table Schema of the source's template file."""
    template, described = TEMPLATES[name], _described(name)
    fields = []
    for column in template.columns:
        kind = KINDS[column.kind]
        constraints = {**kind.get("constraints", {}), **(column.constraints or {})}
        if column.raw in _patterns(name):
            constraints["pattern"] = _patterns(name)[column.raw]
        field = {
            "name": template.headers[column.raw],
            **{k: v for k, v in kind.items() if k != "constraints"},
            "description": described[column.raw],
            "example": column.example,
        }
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {
        "fields": fields,
        "primaryKey": [template.headers[raw] for raw in template.key],
        "missingValues": [""],
        "description": template.description,
        "x-example-row": [column.example for column in template.columns],
    }


def _header(template: Template) -> str:
    return ";".join(template.headers[column.raw] for column in template.columns)


def write(out: Path) -> list[Path]:
    """Write every template, its schema and datapackage.json under `out`; the paths written."""
    written = []
    resources = []
    for spec in SOURCES:
        template = TEMPLATES.get(spec.name)
        if template is None:
            continue
        folder = DELIVERY_DIR
        if template.file == "efforts/indsatser.csv":
            folder = ALTERNATIVE_DIR
        elif spec.optional:
            folder = OPTIONAL_DIR
        path = out / folder / template.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_header(template) + "\n", encoding=template.encoding)
        schema_path = out / "schemas" / f"{spec.name}.schema.json"
        schema_path.parent.mkdir(parents=True, exist_ok=True)
        schema_path.write_text(
            json.dumps(schema(spec.name), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written += [path, schema_path]
        resources.append(
            {
                "name": spec.name.replace("_", "-"),
                "path": path.relative_to(out).as_posix(),
                "format": "csv",
                "encoding": template.encoding,
                "dialect": {"delimiter": ";", "header": True},
                "schema": f"schemas/{spec.name}.schema.json",
            }
        )
    workbook = out / DELIVERY_DIR / XLSX_FILE
    write_effort_workbook(workbook)
    written.append(workbook)
    package = out / "datapackage.json"
    package.write_text(
        json.dumps(
            {"name": "boligsocial-levering", "profile": "tabular-data-package",
             "resources": resources},
            ensure_ascii=False,
            indent=2,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    written.append(package)
    settings_file = out / config.FILE_NAME
    settings_file.write_text(config_reference.commented_toml(), encoding="utf-8")
    written.append(settings_file)
    return written


def write_effort_workbook(path: Path) -> None:
    """The effort register as a workbook: its columns, `spor` limited to drift/projekt, year,
    FTE and budget validated and formatted, the description and example in each header's
    comment. Keep only one of indsatser.csv and indsatser.xlsx in a delivery."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    template, described = TEMPLATES["efforts"], _described("efforts")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Indsatser"
    validations = {
        "spor": DataValidation(
            type="list",
            formula1='"' + ",".join(SPOR) + '"',
            allow_blank=False,
            showErrorMessage=True,
            errorTitle="spor",
            error="spor skal være drift eller projekt",
        ),
        "aar": DataValidation(
            type="whole", operator="between", formula1="1900", formula2="2100",
            showErrorMessage=True, error="år skal være et årstal",
        ),
        "aarsvaerk": DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0",
            showErrorMessage=True, error="årsværk må ikke være negativ",
        ),
        "budget_kr": DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0",
            showErrorMessage=True, error="budget_kr må ikke være negativ",
        ),
    }  # fmt: skip
    for number, column in enumerate(template.columns, start=1):
        letter = get_column_letter(number)
        cell = sheet.cell(row=1, column=number, value=template.headers[column.raw])
        cell.font = Font(bold=True)
        description = described[column.raw]
        cell.comment = Comment(f"{description}\nEksempel: {column.example}", "boligsocial")
        sheet.column_dimensions[letter].width = max(14, len(description) // 2)
        if column.raw in XLSX_FORMATS:
            sheet.column_dimensions[letter].number_format = XLSX_FORMATS[column.raw]
        if column.raw in validations:
            validation = validations[column.raw]
            validation.add(f"{letter}2:{letter}{XLSX_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
