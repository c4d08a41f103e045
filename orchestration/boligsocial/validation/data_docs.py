"""GX Data Docs: every kept validation result (and every suite) as a static site that works
offline.

GX's page templates load bootstrap, jQuery, bootstrap-table, Font Awesome and vega from public
CDNs; on a server without internet the pages render unstyled and their tables stay empty. The
site gets copies of those files (validation/data_docs_assets/, from their npm packages, with
their licences: see its README.md) and every page's links are rewritten to them.

`uv run python -m boligsocial.validation.data_docs` builds the site (`make docs`); the `data_docs`
job does after every refresh (defs/automation/data_docs.py). The site is BOLIGSOCIAL_DATA_DOCS_DIR,
or build/gx_data_docs in the repo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from boligsocial.configuration import settings
from boligsocial.validation.validate import gx_suite, results_root

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR = "static/vendor"  # within the site
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
_JSDELIVR = "https://cdn.jsdelivr.net/npm/"
_FILTER_CONTROL = "https://unpkg.com/bootstrap-table@{}/dist/extensions/filter-control/"
# The CDN addresses in GX 1.x's templates -> the copy in ASSETS_DIR.
CDN_ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    f"{_CDNJS}popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/bootstrap-table.min.js",
    _FILTER_CONTROL.format("1.19.0") + "bootstrap-table-filter-control.css":
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    _FILTER_CONTROL.format("1.19.0") + "bootstrap-table-filter-control.min.css":
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    _FILTER_CONTROL.format("1.19.1") + "bootstrap-table-filter-control.min.js":
        "bootstrap-table/bootstrap-table-filter-control.min.js",
    f"{_CDNJS}bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    f"{_CDNJS}bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    f"{_CDNJS}font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    f"{_JSDELIVR}@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/bootstrap-prefers-dark.css",
    f"{_JSDELIVR}vega@5": "vega/vega.min.js",
    f"{_JSDELIVR}vega-lite@5": "vega-lite/vega-lite.min.js",
    f"{_JSDELIVR}vega-embed@6": "vega-embed/vega-embed.min.js",
}  # fmt: skip
_LINK = re.compile(r'(?P<attr>src|href)="(?P<url>https?://[^"]+)"(?P<rest>[^>]*)>')
# GX's logo, from its web assets bucket; GX ships the image (the dark theme's logo it does not).
_GX_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(logo-long|full_logo_dark)\.png(\?[^\"']*)?"
)
# The site's own static files, which GX links one level short from validation pages (the
# favicon): linked again from the page's real depth.
_STATIC = re.compile(r'(?P<attr>src|href)="(?:\.\./)*static/(?P<path>[^"]+)"')
# Subresource-integrity attributes would make Chromium refuse a file:// copy (CORS).
_INTEGRITY = re.compile(r'\s+(integrity|crossorigin)="[^"]*"')
BATCH = "frame"  # the batch identifier of every kept result


def site_dir() -> Path:
    value = os.environ.get("BOLIGSOCIAL_DATA_DOCS_DIR", "").strip()
    default = settings.PROJECT_ROOT / "build" / "gx_data_docs"
    return Path(value).expanduser().resolve() if value else default


def _run_time(document: dict) -> datetime | None:
    validated_at = document.get("meta", {}).get("validated_at")
    return datetime.fromisoformat(validated_at) if validated_at else None


def page_of(result: Path, site: Path | None = None) -> Path:
    """The page of one kept result (validation.validate.save_result) in the site: GX's layout,
    validations/<suite>/<run name>/<run time, UTC>/<batch>.html."""
    document = json.loads(result.read_text(encoding="utf-8"))
    run_name = document.get("meta", {}).get("run_id", result.parent.name)
    run_time = _run_time(document)
    stamp = run_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") if run_time else "__none__"
    return (site or site_dir()) / "validations" / result.stem / run_name / stamp / f"{BATCH}.html"


def _offline(page: Path, vendor: Path) -> None:
    """Point the page's CDN links at the site's copies."""
    text = page.read_text(encoding="utf-8")

    def local(match: re.Match) -> str:
        target = CDN_ASSETS.get(match["url"])
        if target is None:
            return match[0]
        relative = os.path.relpath(vendor / target, page.parent)
        return f'{match["attr"]}="{relative}"{_INTEGRITY.sub("", match["rest"])}>'

    def static(match: re.Match) -> str:
        return f'{match["attr"]}="{os.path.relpath(vendor.parent / match["path"], page.parent)}"'

    logo = os.path.relpath(vendor.parent / "images" / "logo-long.png", page.parent)
    text = _STATIC.sub(static, _LINK.sub(local, text))
    page.write_text(_GX_LOGO.sub(logo, text), encoding="utf-8")


def build_data_docs(results: Path | None = None, site: Path | None = None) -> Path:
    """Render every kept validation result (and every suite) as a static GX Data Docs site that
    loads nothing from the network; returns its index.html."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        expectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    results = results or results_root()
    site = site or site_dir()
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(site),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    for path in sorted(settings.EXPECTATIONS_DIR.glob("*.json")):
        context.suites.add(gx_suite(json.loads(path.read_text(encoding="utf-8"))))
    for path in sorted(results.glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=path.stem),
            run_id=RunIdentifier(
                run_name=document.get("meta", {}).get("run_id", path.parent.name),
                run_time=_run_time(document),
            ),
            batch_identifier=BATCH,
        )
        context.validation_results_store.set(
            key, expectationSuiteValidationResultSchema.load(document)
        )
    context.build_data_docs()
    vendor = site / VENDOR
    shutil.copytree(ASSETS_DIR, vendor, dirs_exist_ok=True)
    for page in site.rglob("*.html"):
        _offline(page, vendor)
    return site / "index.html"


def main() -> None:
    """uv run python -m boligsocial.validation.data_docs: build the Data Docs site."""
    print(build_data_docs())


if __name__ == "__main__":
    main()
