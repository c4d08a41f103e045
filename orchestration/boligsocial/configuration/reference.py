"""The reference of boligsocial.toml in docs/configuration.md, and the commented file that
`boligsocial templates` writes, both generated from the model.

`python -m boligsocial.configuration.reference` writes the page between its markers;
tests/configuration/test_reference.py fails when the page and the model differ.
"""

from __future__ import annotations

import inspect
import textwrap
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from boligsocial.configuration import config, settings

PAGE = settings.PROJECT_ROOT / "docs" / "configuration.md"
BEGIN = "<!-- generated from boligsocial/configuration/config.py: do not edit -->"
END = "<!-- end of the generated part -->"
TYPES = {str: "text", int: "whole number"}


def _type(annotation: Any, rule: Any) -> str:
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [_type(a, rule) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(kinds) + " (or left out)"
    if get_origin(annotation) is tuple:
        return "list of texts"
    if hasattr(annotation, "__metadata__"):  # Annotated
        return _type(get_args(annotation)[0], rule)
    kind = TYPES[annotation]
    bounds = {type(m).__name__: m for m in rule}
    if "Gt" in bounds:
        return f"{kind} > {bounds['Gt'].gt}"
    if "Ge" in bounds:
        return f"{kind} ≥ {bounds['Ge'].ge}"
    return kind


def _default(value: Any) -> str:
    if value is None:
        return "(none)"
    shown = config.as_toml(value)
    if isinstance(value, int) and value >= 1 << 20 and value % (1 << 20) == 0:
        return f"`{shown}` ({value >> 20} MiB)"
    return f"`{shown}`"


def _rows(model: type[config.BaseModel]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in config.SECTIONS:
            continue
        kind = _type(field.annotation, field.metadata)
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {_default(field.get_default())} | {description} |")
    return rows


def markdown() -> str:
    """Every key of the file, per section, with its type, default and meaning."""
    lines = [BEGIN, "", "### Top level", "", *_rows(config.Config)]
    for name, section in config.SECTIONS.items():
        doc = inspect.cleandoc(section.__doc__ or "").replace("\n", " ")
        lines += ["", f"### `[{name}]`", "", doc, "", *_rows(section)]
    return "\n".join([*lines, "", END])


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, 96, initial_indent="# ", subsequent_indent="# ")


def _commented(model: type[config.BaseModel]) -> list[str]:
    """Each key at its default; a key without one (None) at its example."""
    lines = []
    for name, field in model.model_fields.items():
        if name in config.SECTIONS:
            continue
        value = field.get_default()
        if value is None:
            value = field.examples[0]
        lines += [*_comment(field.description or ""), f"# {name} = {config.as_toml(value)}"]
    return lines


def commented_toml() -> str:
    """Every key of the file, commented out at its default, with its meaning: a file that
    changes nothing until a line is taken in."""
    lines = [
        *_comment(
            f"{config.FILE_NAME}: the installation's configuration. Its place: "
            f"${settings.HOME_VARIABLE}/{config.FILE_NAME} or the file "
            f"${config.CONFIG_VARIABLE} names, never the sources folder (a file delivered there "
            "is not read). Take a line in by removing the `# ` before its key; every key is "
            "optional, an unknown key is an error. Reference: docs/configuration.md."
        ),
        "",
        *_commented(config.Config),
    ]
    for name, section in config.SECTIONS.items():
        doc = inspect.cleandoc(section.__doc__ or "").replace("\n", " ")
        lines += ["", *_comment(doc), f"[{name}]", *_commented(section)]
    return "\n".join(lines) + "\n"


def page(text: str) -> str:
    """The page with its generated part replaced by the model's."""
    head, rest = text.split(BEGIN, 1)
    return head + markdown() + rest.split(END, 1)[1]


def main(path: Path = PAGE) -> None:
    path.write_text(page(path.read_text("utf-8")), encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
