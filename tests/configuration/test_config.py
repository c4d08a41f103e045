"""boligsocial.toml is a typed model: every mistake in it is one sentence, in Danish by default,
naming the file, the key and what is allowed (with a suggestion for a near miss), and every
command (`check`, `run`, `ui`, the Makefile's) says it without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.configuration import config, settings

MISTAKES = [
    # (the file, the Danish sentence's telling parts)
    ("[municipalty]\ncode = 751\n",
     ["municipalty", "tilladt er owners, municipality", "mente du 'municipality'?"]),
    ("[limits]\nmax_file_byte = 3\n",
     ["[limits] max_file_byte", "max_xlsx_rows", "mente du 'max_file_bytes'?"]),
    ("[limits]\nmax_file_bytes = \"3\"\n", ['[limits] max_file_bytes = "3"', "et helt tal"]),
    ("[limits]\nmax_file_bytes = 0\n", ["[limits] max_file_bytes = 0", "et helt tal over 0"]),
    ("[limits]\nduckdb_threads = -2\n", ["duckdb_threads = -2", "0 eller mere"]),
    ("[limits]\nduckdb_memory_limit = \"lots\"\n", ["duckdb_memory_limit", '"256MB"']),
    ('owners = ["not an owner"]\n',
     ['owners = ["not an owner"]', '"team:navn" eller en e-mailadresse']),
    ('owners = "team:data"\n', ["owners", "en liste af tekster"]),
    ("[alerts]\nrecipients = [1]\n", ["[alerts] recipients", "en liste af tekster"]),
    ("[report]\ntitle = 5\n", ["[report] title = 5", "tekst i anførselstegn"]),
    ("report = 5\n", ["report = 5", "en sektion af indstillinger"]),
    ("[report]\nvisoin = 'x'\n", ["[report] visoin", "mente du 'vision'?"]),
    ("[report\n", ["er ikke gyldig TOML", "line 1"]),
    ("[udbetaling]\n", ["ingen sektion eller indstilling udbetaling", "alerts"]),
    ("[limits]\nfoo = 1\n", ["ingen indstilling [limits] foo", "load_chunk_bytes"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "parts"), MISTAKES)
def test_a_mistake_is_one_sentence_naming_file_key_and_what_is_allowed(text, parts, tmp_path):
    path = tmp_path / "boligsocial.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError) as raised:
        config.parse(text, path)
    danish, english = raised.value.text("da"), raised.value.text("en")
    assert danish.startswith(f"{path}:") or danish.startswith(f"{path} ")
    for part in parts:
        assert part in danish, danish
    assert "\n" not in danish and "\n" not in english
    assert english != danish and str(path) in english


def test_every_setting_of_the_example_is_typed(tmp_path):
    example = config.parse(
        (settings.PROJECT_ROOT / "boligsocial.toml").read_text("utf-8"), Path("x")
    )
    assert example.municipality.code == 330 and example.owners == ("team:kompetencecenter",)
    assert example.limits == config.Limits()  # the example keeps the bounds' defaults
    assert example.report.vision == "Visionen er, at intet område er på listen efter 2025."
    vision = config.parse('[report]\nvision = "V"\n[alerts]\nrecipients = ["a@b.dk"]\n')
    assert vision.report.vision == "V" and vision.alerts.recipients == ("a@b.dk",)
    assert config.parse("").owners == ("team:data",)


def _command(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "boligsocial.cli.main", "check", str(settings.EXAMPLE_SOURCES_DIR)],
        [sys.executable, "-m", "boligsocial.cli.main", "run"],
        [sys.executable, "-m", "boligsocial.cli.main", "ui", "--port", "1"],
        [sys.executable, "-m", "boligsocial.runs.refresh"],  # make run
        [sys.executable, "-m", "boligsocial.configuration"],  # make ui, daemon, webserver
    ],
    ids=["check", "run", "ui", "make run", "make ui"],
)
def test_every_command_says_a_mistake_in_one_sentence_without_a_traceback(command, tmp_path):
    path = tmp_path / "boligsocial.toml"
    path.write_text("[municipalty]\nname = 'Aarhus'\n", encoding="utf-8")
    env = {"BOLIGSOCIAL_CONFIG": str(path), "BOLIGSOCIAL_HOME": str(tmp_path / "home")}
    done = _command(command, env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    sentence = f"{path}: der findes ingen sektion eller indstilling municipalty"
    assert any(sentence in line and "mente du 'municipality'?" in line for line in lines), output
    assert not (tmp_path / "home").exists()  # nothing was started


def test_the_makefile_asks_before_it_starts_the_ui(tmp_path):
    path = tmp_path / "boligsocial.toml"
    path.write_text("[limits]\nmax_file_bytes = 'many'\n", encoding="utf-8")
    done = _command(
        ["make", "--no-print-directory", "-s", "ui"],
        {"BOLIGSOCIAL_CONFIG": str(path), "BOLIGSOCIAL_HOME": str(tmp_path / "home")},
        cwd=settings.PROJECT_ROOT,
    )
    assert done.returncode != 0 and "Traceback" not in done.stdout + done.stderr
    assert f'{path}: [limits] max_file_bytes = "many" er ikke tilladt' in done.stderr


def test_a_named_file_that_is_missing_or_not_a_regular_file_is_a_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(tmp_path / "gone.toml"))
    with pytest.raises(config.ConfigError, match=r"BOLIGSOCIAL_CONFIG names .*gone\.toml"):
        config.load()
    fifo = tmp_path / "boligsocial.toml"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(fifo))
    with pytest.raises(config.ConfigError) as raised:
        config.load()
    assert raised.value.text("da") == (
        f"{fifo} er ikke en almindelig fil (men en pipe, en socket eller en mappe): den læses ikke"
    )


def test_a_file_that_is_not_utf8_is_a_sentence(tmp_path, monkeypatch):
    path = tmp_path / "boligsocial.toml"
    path.write_bytes('[municipality]\nname = "Århus"\n'.encode("latin-1"))
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(path))
    with pytest.raises(config.ConfigError) as raised:
        config.load()
    assert raised.value.text("da") == f"{path} er ikke UTF-8-tekst"


def _aarhus(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "boligsocial.toml"
    path.write_text('[municipality]\nname = "Aarhus Kommune"\ncode = 751\n', encoding="utf-8")
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(path))
    return path


def test_check_warns_when_the_areas_are_of_another_municipality(tmp_path, monkeypatch):
    from boligsocial.cli import check

    path = _aarhus(tmp_path, monkeypatch)
    report = check.check(settings.EXAMPLE_SOURCES_DIR)  # the example's areas: code 330
    [warning] = [p for p in report.problems if p.kind == "config_code_mismatch"]
    assert warning.severity == check.WARNING and report.ok
    assert warning.message_da == (
        f"{path}: [municipality] code = 751, men reference/areas.csv angiver kommunekode 330: "
        "rapporten og StatBank-forespørgslerne bruger 751"
    )
    assert f"ADVARSEL {warning.message_da}" in check.text(report, "da").splitlines()


def test_a_run_warns_when_the_areas_are_of_another_municipality(tmp_path, monkeypatch):
    import duckdb

    from boligsocial.runs import refresh

    path = _aarhus(tmp_path, monkeypatch)
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw; create table raw.areas (municipality_code varchar)")
        con.execute("insert into raw.areas values ('999'), ('999')")
    assert refresh.municipality_warning() == (
        f"{path}: [municipality] code = 751, men reference/areas.csv angiver kommunekode 999: "
        "rapporten og StatBank-forespørgslerne bruger 751"
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into raw.areas values ('751')")  # one of Aarhus's areas at least
    assert refresh.municipality_warning() is None
