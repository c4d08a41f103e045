"""docs/configuration.md cannot drift from the model: its reference of boligsocial.toml is the
model's (generated), every key of the model is in it, and its table of the installation home
is settings.IN_HOME."""

from __future__ import annotations

import re

from boligsocial.configuration import config, reference, settings


def test_the_page_holds_the_models_reference():
    text = reference.PAGE.read_text("utf-8")
    assert reference.page(text) == text, "python -m boligsocial.configuration.reference"


def test_every_key_of_the_model_is_on_the_page_with_its_default():
    generated = reference.markdown()
    sections = re.findall(r"^### `\[(\w+)\]`$", generated, re.MULTILINE)
    assert sections == list(config.SECTIONS)
    for name, section in [("", config.Config), *config.SECTIONS.items()]:
        for key, field in section.model_fields.items():
            if key in config.SECTIONS:
                continue
            assert f"| `{key}` |" in generated, f"[{name}] {key}"
            assert field.description, f"[{name}] {key} has no meaning to show"
    assert "| `max_file_bytes` | whole number > 0 | `104857600` (100 MiB) |" in generated


def test_the_home_table_is_the_codes():
    text = reference.PAGE.read_text("utf-8")
    rows = re.findall(r"^\| [^|]+ \| `(\w+)` \| `([^`]+)` \|$", text, re.MULTILINE)
    assert {v: p.rstrip("/") for v, p in rows} == settings.IN_HOME


def test_the_danish_guide_and_the_readme_link_to_it():
    for page in ("docs/da/README.md", "README.md"):
        text = (settings.PROJECT_ROOT / page).read_text("utf-8")
        assert "configuration.md" in text, page
