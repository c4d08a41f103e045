"""`boligsocial templates`: the templates are what the readers read, and a delivery made of them
(plus rows) passes `check`; the workbook carries its validations and number formats."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest

from boligsocial.cli import check, templates
from boligsocial.cli.main import main
from boligsocial.configuration import config
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.errors import SourceError


@pytest.fixture
def written(tmp_path: Path) -> Path:
    out = tmp_path / "skabeloner"
    assert main(["templates", str(out)]) == 0
    return out


def test_every_required_source_has_a_template_and_a_schema(written: Path):
    for spec in SOURCES:
        if spec.optional:
            continue
        template = templates.TEMPLATES[spec.name]
        schema = json.loads((written / "schemas" / f"{spec.name}.schema.json").read_text("utf-8"))
        headers = [field["name"] for field in schema["fields"]]
        # The header row is the reader's, in the schema's order.
        assert headers == [template.headers[c.raw] for c in template.columns]
        assert sorted(template.headers) == sorted(c.raw for c in template.columns)
        assert schema["primaryKey"] == [template.headers[k] for k in template.key]
        # The example values (which the readers accept, see below) meet the schema's own rules.
        for field in schema["fields"]:
            rules = field.get("constraints", {})
            if "pattern" in rules:
                assert re.fullmatch(rules["pattern"], field["example"]), field
            if "enum" in rules:
                assert field["example"] in rules["enum"], field
        if spec.name != "efforts":
            path = written / templates.DELIVERY_DIR / template.file
            assert path.read_text("utf-8") == ";".join(headers) + "\n"
            assert spec.files(written / templates.DELIVERY_DIR) == [path]
    package = json.loads((written / "datapackage.json").read_text("utf-8"))
    for resource in package["resources"]:
        assert (written / resource["path"]).is_file()
        assert (written / resource["schema"]).is_file()


def test_an_empty_template_is_refused_as_having_no_rows(written: Path):
    with pytest.raises(SourceError, match="no data rows"):
        read_efforts(written / templates.DELIVERY_DIR / templates.XLSX_FILE)


def test_the_workbook_shows_its_validations_and_formats(written: Path):
    workbook = openpyxl.load_workbook(written / templates.DELIVERY_DIR / templates.XLSX_FILE)
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [templates.TEMPLATES["efforts"].headers[c.raw]
                       for c in templates.TEMPLATES["efforts"].columns]  # fmt: skip
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    by_range = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    spor = by_range[f"{letter['spor']}2:{letter['spor']}{templates.XLSX_ROWS + 1}"]
    assert (spor.type, spor.formula1, spor.showErrorMessage) == ("list", '"drift,projekt"', True)
    assert by_range[f"{letter['år']}2:{letter['år']}{templates.XLSX_ROWS + 1}"].type == "whole"
    budget = by_range[f"{letter['budget_kr']}2:{letter['budget_kr']}{templates.XLSX_ROWS + 1}"]
    assert (budget.type, budget.operator, budget.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert sheet.column_dimensions[letter["budget_kr"]].number_format == "#,##0.00"
    assert sheet.column_dimensions[letter["årsværk"]].number_format == "0.0#"
    assert "Eksempel: drift" in sheet[f"{letter['spor']}1"].comment.text


def _example_row(name: str) -> str:
    return ";".join(c.example for c in templates.TEMPLATES[name].columns) + "\n"


STATISTICS = [
    ("BEF", "412"), ("BEF_18_64", "260"), ("UDENFOR_18_64", "110,5"), ("BEF_30_59", "180"),
    ("GRUNDSKOLE_30_59", "70"), ("BEF_18PLUS", "300"), ("DOEMTE_18PLUS", "6"),
    ("IKKEVEST", "190"), ("INDK_PERS_15_64", "240"), ("INDK_SUM_15_64", "36000000"),
]  # fmt: skip


def test_a_delivery_made_of_the_templates_passes_check(written: Path, monkeypatch):
    """Each template plus its example row (the statistics file: the example department's ten
    MÅL; the optional official list taken into the delivery), the workbook with one row typed in
    as numbers, under the written boligsocial.toml: `check` finds nothing."""
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(written / "boligsocial.toml"))
    delivery = written / templates.DELIVERY_DIR
    official = templates.TEMPLATES["official_list"].file
    (delivery / official).write_bytes((written / templates.OPTIONAL_DIR / official).read_bytes())
    for name, template in templates.TEMPLATES.items():
        if name == "efforts":
            continue
        path = delivery / template.file
        if name == "area_statistics":
            rows = [f"ORG;1;{maal};2024;{value}\n" for maal, value in STATISTICS]
        else:
            rows = [_example_row(name)]
        path.write_text(path.read_text("utf-8") + "".join(rows), "utf-8")
    workbook_path = delivery / templates.XLSX_FILE
    workbook = openpyxl.load_workbook(workbook_path)
    workbook.worksheets[0].append(
        ["IND-01", "Lektiecafé", "Uddannelse og beskæftigelse", "drift", "NORDPARKEN", 2024,
         1.5, 450000.5]
    )  # fmt: skip
    workbook.save(workbook_path)
    report = check.check(delivery)
    assert report.problems == []
    assert set(report.files) == {
        t.file for n, t in templates.TEMPLATES.items() if n != "efforts"
    } | {templates.XLSX_FILE}
    # The CSV form of the register reads as the workbook does.
    csv_form = written / templates.ALTERNATIVE_DIR / "efforts" / "indsatser.csv"
    csv_form.write_text(csv_form.read_text("utf-8") + _example_row("efforts"), "utf-8")
    frame = read_efforts(csv_form)
    assert frame.loc[0, "budget_kr"] == "450000.00" and frame.loc[0, "spor"] == "drift"
    (delivery / templates.XLSX_FILE).unlink()
    shutil.copy(csv_form, delivery / "efforts" / "indsatser.csv")
    assert check.check(delivery).ok


def test_the_written_settings_file_changes_nothing_until_a_line_is_taken_in(written: Path):
    """boligsocial.toml as `templates` writes it is the defaults; with every key's line taken in,
    it is still a valid file of every key the model has (a key the model lost would be an
    error, a key it gained would be missing)."""
    text = (written / "boligsocial.toml").read_text("utf-8")
    assert config.parse(text) == config.Config()
    taken_in = re.sub(r"(?m)^# (\w+ = )", r"\1", text)
    data = tomllib.loads(taken_in)
    parsed = config.parse(taken_in)
    for name, section in config.SECTIONS.items():
        assert sorted(data[name]) == sorted(section.model_fields)
    assert parsed.municipality.code == 330  # the example of the key without a default
    assert parsed.limits == config.Limits() and parsed.alerts == config.Alerts()


def test_the_optional_official_list_has_a_template_outside_the_delivery(written: Path):
    template = templates.TEMPLATES["official_list"]
    assert not (written / templates.DELIVERY_DIR / template.file).exists()
    header = (written / templates.OPTIONAL_DIR / template.file).read_text("utf-8")
    assert (
        header
        == ";".join(SOURCES_BY_NAME["official_list"].headers[c.raw] for c in template.columns)
        + "\n"
    )
    schema = json.loads((written / "schemas" / "official_list.schema.json").read_text("utf-8"))
    assert [f["name"] for f in schema["fields"]] == header.strip().split(";")
