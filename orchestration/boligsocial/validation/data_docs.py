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

import base64
import hashlib
import html
import json
import os
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from boligsocial.configuration import settings
from boligsocial.validation.suites import WARNING, gx_suite
from boligsocial.validation.validate import results_root

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
# Delivered text reaches the pages through GX's views, which escape some values (string
# template parameters) and not others (table cells, the index page's script data). So every
# string of a kept result is made inert before GX sees it: each character that HTML or a
# script literal could read as markup, and the token's own lead character, becomes
# "~<hex code>;", which no view changes; each rendered page then turns every token into the
# character reference "&#x<hex>;": text in HTML and in attributes, inert inside a script's
# string literal, and the character again where bootstrap-table hands such a string to
# innerHTML. One escape, wherever GX puts the value.
_INERT = str.maketrans({c: f"~{ord(c):x};" for c in "<>&\"'~"})
_TOKEN = re.compile(r"~([0-9a-f]{1,6});")
# Put before the description of a failed warning-level rule (after the tokens are made, so
# it stays itself): the page shows the rule with a warning icon, not a red cross.
_WARNING_MARK = "~warning;"
_WARNING_ICON = "fas fa-exclamation-triangle text-warning"
_WARNING_BADGE = '<span class="badge badge-warning">warning</span> '
FILES_SHOWN = 20  # the delivery's files a page lists (a first load may have 88,000)
LINEAGE = ["_source_file", "_source_row"]
# Each page's own policy (a <meta> tag, so it holds wherever the page is opened, file://
# included): scripts only from the site and the inline scripts and handlers GX wrote (their
# hashes); nothing is fetched from anywhere else, no form is sent, no <base> is honoured.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-hashes' {hashes}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
# The policy the reverse proxy (deploy/Caddyfile, deploy/nginx.conf) sends with the site, which
# it serves under /gx/ on the Dagster UI's origin. `sandbox` makes every page an origin of its
# own (an opaque one): a script that got in anyway reads nothing of the UI's origin, opens no
# window and sends no form; every request a page makes stays inside /gx/ ({site}: the
# proxy's <scheme>://<host:port>/gx/), so no <img> or <script> can call the UI's GraphQL
# (which runs a query from a GET's query string). The hash list of PAGE_POLICY cannot be sent
# from a proxy (it is per page), and hashes computed at build would bless a <script> that a
# missed escape let in: the sandbox is what makes one missed escape harmless.
SERVED_POLICY = (
    "sandbox allow-scripts; default-src 'none'; script-src {site} 'unsafe-inline'; "
    "style-src {site} 'unsafe-inline'; img-src {site} data:; font-src data:; "
    "connect-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_HEAD = "<head>"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_HANDLER = re.compile(r'\son[a-z]+="([^"]*)"')
_PATH_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# A font of Font Awesome's stylesheet: the .woff2 file kept here, and the .ttf fallback that is
# not (ASSETS_DIR's README).
_FONT = re.compile(
    r'url\(\.\./webfonts/(?P<name>[A-Za-z0-9._-]+\.woff2)\) format\("woff2"\)'
    r'(,url\(\.\./webfonts/[A-Za-z0-9._-]+\.ttf\) format\("truetype"\))?'
)


def site_dir() -> Path:
    return settings.data_docs_dir()


def _run_time(document: dict) -> datetime | None:
    validated_at = document.get("meta", {}).get("validated_at")
    return datetime.fromisoformat(validated_at) if validated_at else None


def _run_name(document: dict, result: Path) -> str:
    run_id = document.get("meta", {}).get("run_id", result.parent.name)
    return run_id.get("run_name", result.parent.name) if isinstance(run_id, dict) else run_id


def batch_name(document: dict) -> str:
    """The batch identifier of a kept result: its delivery's first file and how many more (a
    path component of the page, so only letters, digits, '.', '_' and '-')."""
    files = document.get("meta", {}).get("files") or []
    if not files:
        return "no-files"
    first = _PATH_UNSAFE.sub("_", PurePosixPath(str(files[0])).name)[:80]
    return first if len(files) == 1 else f"{first}-and-{len(files) - 1}-more"


def page_of(result: Path, site: Path | None = None) -> Path:
    """The page of one kept result (validation.validate.save_result) in the site: GX's layout,
    validations/<suite>/<run name>/<run time, UTC>/<batch>.html."""
    document = json.loads(result.read_text(encoding="utf-8"))
    run_time = _run_time(document)
    stamp = run_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") if run_time else "__none__"
    run = _run_name(document, result)
    return (
        (site or site_dir())
        / "validations"
        / result.stem
        / run
        / stamp
        / (f"{batch_name(document)}.html")
    )


def _inert(value: Any) -> Any:
    """`value` with every string (keys too) made inert (_INERT)."""
    if isinstance(value, str):
        return value.translate(_INERT)
    if isinstance(value, list):
        return [_inert(v) for v in value]
    if isinstance(value, dict):
        return {_inert(k): _inert(v) for k, v in value.items()}
    return value


def _table_result(outcome: dict, suite: dict) -> dict:
    """A table-scope outcome (checked in SQL, kept in the result's meta) as a GX expectation
    result, so the page lists it beside GX's own (the rule's kwargs from the suite)."""
    column, samples = outcome.get("column"), outcome.get("samples") or []
    result: dict[str, Any] = {}
    elements, unexpected = outcome.get("element_count"), outcome.get("unexpected_count")
    if elements:  # GX's views read a count and a percentage for the rules over rows
        unexpected = len(samples) if unexpected is None else unexpected
        result |= {
            "element_count": elements,
            "unexpected_count": unexpected,
            "unexpected_percent": 100 * unexpected / elements,
        }
    if samples:
        # A rule about files (every delivered file has rows) samples the file itself.
        values = [s["value"] if "value" in s else s.get("file") for s in samples]
        counts = Counter(json.dumps(v, sort_keys=True) for v in values)
        result["partial_unexpected_list"] = values
        result["partial_unexpected_counts"] = [
            {"value": json.loads(v), "count": n} for v, n in counts.most_common()
        ]
        result["partial_unexpected_index_list"] = [
            {column or "value": v, "_source_file": s.get("file"), "_source_row": s.get("row")}
            for v, s in zip(values, samples, strict=True)
        ]  # fmt: skip
    elif outcome.get("observed") is not None:
        result["observed_value"] = outcome["observed"]
    return {
        "success": bool(outcome.get("success")),
        "expectation_config": {
            "type": outcome["expectation"],
            "kwargs": suite["expectations"][outcome["order"]]["kwargs"],
            "meta": {"scope": "table", "description_da": outcome.get("description_da")},
            "description": outcome.get("description"),
            "severity": outcome.get("severity"),
        },
        "result": result,
        "meta": {},
        "exception_info": {
            "raised_exception": False,
            "exception_traceback": None,
            "exception_message": None,
        },
    }


def _is_warning(result: dict) -> bool:
    return (result.get("expectation_config") or {}).get("severity") == WARNING


def page_document(document: dict, suite: dict, run: str) -> tuple[dict, bool]:
    """The document GX renders for a kept result, and whether its only failures are warnings.

    It names the source (the data asset) and the delivery (its files and the run, as the batch
    spec), lists the table-scope rules as results, gives every failure's first rows their file
    and line, succeeds when every error-level rule did, and holds no delivered character that
    a view could read as markup (_INERT)."""
    document = json.loads(json.dumps(document))  # a copy to change
    meta = document.setdefault("meta", {})
    results = document.setdefault("results", [])
    results += [_table_result(o, suite) for o in meta.pop("table_scope", None) or []]
    for result in results:
        found = result.get("result") or {}
        index = found.get("partial_unexpected_index_list")
        if found.get("partial_unexpected_counts") and index and set(LINEAGE) <= set(index[0]):
            # GX shows each value's rows when given the rows as unexpected_index_list.
            found["unexpected_index_list"] = index
            found["unexpected_index_column_names"] = LINEAGE
    failed = [r for r in results if not r.get("success")]
    warnings_only = bool(failed) and all(_is_warning(r) for r in failed)
    document["success"] = not failed or warnings_only
    passed = len(results) - len(failed)
    document["statistics"] = {
        **document.get("statistics", {}),
        "evaluated_expectations": len(results),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(failed),
        "success_percent": 100 * passed / len(results) if results else None,
    }
    files = [str(f) for f in meta.get("files") or []]
    shown = files[:FILES_SHOWN]
    if len(files) > FILES_SHOWN:
        shown.append(f"… and {len(files) - FILES_SHOWN} more")
    meta["batch_spec"] = {"data_asset_name": suite["name"], "files": shown, "run_id": run}
    meta["run_id"] = {"run_name": run, "run_time": meta.get("validated_at")}
    document = _inert(document)
    for result in document["results"]:
        if not result.get("success") and _is_warning(result):
            config = result["expectation_config"]
            config["description"] = _WARNING_MARK + (config.get("description") or config["type"])
    return document, warnings_only


def _offline(text: str, page: Path, vendor: Path) -> str:
    """Point the page's CDN links at the site's copies."""

    def local(match: re.Match) -> str:
        target = CDN_ASSETS.get(match["url"])
        if target is None:
            return match[0]
        relative = os.path.relpath(vendor / target, page.parent)
        return f'{match["attr"]}="{relative}"{_INTEGRITY.sub("", match["rest"])}>'

    def static(match: re.Match) -> str:
        return f'{match["attr"]}="{os.path.relpath(vendor.parent / match["path"], page.parent)}"'

    logo = os.path.relpath(vendor.parent / "images" / "logo-long.png", page.parent)
    return _GX_LOGO.sub(logo, _STATIC.sub(static, _LINK.sub(local, text)))


def _warnings_shown(text: str) -> str:
    """Each failed warning-level rule (_WARNING_MARK in its description cell) with GX's red
    cross in its row's status cell turned into a warning icon, and its count in warning
    colour."""
    cell = re.compile(
        r'<td id="(?P<row>[^"]+-cell-\d+-)2"(?:(?!</td>).)*?' + re.escape(_WARNING_MARK), re.S
    )
    for row in {m["row"] for m in cell.finditer(text)}:
        status = re.compile(
            rf'(<td id="{re.escape(row)}1"(?:(?!</td>).)*?)fas fa-times text-danger', re.S
        )
        text = status.sub(rf"\g<1>{_WARNING_ICON}", text, count=1)
        count = re.compile(
            rf'({re.escape(_WARNING_MARK)}(?:(?!</td>).)*?)class="text-danger"', re.S
        )
        text = count.sub(r'\g<1>class="text-warning"', text)
    return text.replace(_WARNING_MARK, _WARNING_BADGE)


_SUCCEEDED = '<i class="fas fa-check-circle text-success" aria-hidden="true"></i> Succeeded'


def _header_warned(text: str) -> str:
    """The page's status when only warning-level rules failed."""
    return text.replace(
        _SUCCEEDED, f'<i class="{_WARNING_ICON}" aria-hidden="true"></i> Succeeded with warnings'
    )


def _index_warned(text: str, link: str) -> str:
    """The index row of page `link` (relative to the site) marked as succeeded with warnings:
    the row is the dict of GX's table data that holds the link."""
    at = text.find(f"'_table_row_link_path': '{link}'")
    start = text.rfind("{'validation_success': ", 0, at)
    if at < 0 or start < 0:
        return text
    end = text.find("}", at)
    row = text[start:end].replace("fa-check-circle text-success", _WARNING_ICON)
    row = row.replace(
        "'_validation_success_text': 'Success'", "'_validation_success_text': 'Warning'"
    )
    return text[:start] + row + text[end:]


def _source_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def with_page_policy(text: str) -> str:
    """The page with its PAGE_POLICY: the hashes of the inline scripts and handlers it holds."""
    sources = _INLINE_SCRIPT.findall(text) + [html.unescape(h) for h in _HANDLER.findall(text)]
    hashes = " ".join(sorted({_source_hash(s) for s in sources}))
    tag = (
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY.format(hashes=hashes)}">'
    )
    if text.count(_HEAD) != 1:
        raise ValueError(f"no single {_HEAD} to put the Content-Security-Policy in")
    return text.replace(_HEAD, f"{_HEAD}\n{tag}", 1)


def _vendor_copy(vendor: Path) -> None:
    """The vendored files into the site, Font Awesome's fonts inlined into its stylesheet: a
    sandboxed page (SERVED_POLICY) asks for fonts as an opaque origin, without the login the
    proxy wants."""
    shutil.copytree(ASSETS_DIR, vendor, dirs_exist_ok=True)
    stylesheet = vendor / "fontawesome" / "css" / "all.min.css"
    fonts = ASSETS_DIR / "fontawesome" / "webfonts"

    def inline(match: re.Match) -> str:
        data = base64.b64encode((fonts / match["name"]).read_bytes()).decode()
        return f'url(data:font/woff2;base64,{data}) format("woff2")'

    stylesheet.write_text(_FONT.sub(inline, stylesheet.read_text(encoding="utf-8")), "utf-8")


# The site's record of what it was built from (_site_inputs): a refresh that validated nothing
# new leaves the site as it is, without importing GX (about 4 s of CPU on every such refresh).
SITE_INPUTS = ".site-inputs"


def _site_inputs(results: Path) -> str:
    """The kept results and the suites (path, size, change time) and this renderer's code."""
    files = sorted(results.glob("*/*.json")) + sorted(settings.EXPECTATIONS_DIR.glob("*.json"))
    listing = [f"{path} {path.stat().st_size} {path.stat().st_mtime_ns}" for path in files]
    listing.append(hashlib.sha256(Path(__file__).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


def build_data_docs(results: Path | None = None, site: Path | None = None) -> Path:
    """Render every kept validation result (and every suite) as a static GX Data Docs site that
    loads nothing from the network and runs no script but its own; returns its index.html. A
    site built from the same results, suites and code is left as it is."""
    results = results or results_root()
    site = site or site_dir()
    inputs = _site_inputs(results)
    record = site / SITE_INPUTS
    if (site / "index.html").exists() and record.exists() and record.read_text() == inputs:
        return site / "index.html"
    record.unlink(missing_ok=True)  # a build that stops half-way is built again next time
    index = _build_site(results, site)
    record.write_text(inputs)
    return index


def _build_site(results: Path, site: Path) -> Path:
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
    suites = {}
    for path in sorted(settings.EXPECTATIONS_DIR.glob("*.json")):
        suites[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        context.suites.add(gx_suite(suites[path.stem]))
    warned = []  # pages whose only failures are warnings
    for path in sorted(results.glob("*/*.json")):
        kept = json.loads(path.read_text(encoding="utf-8"))
        run = _run_name(kept, path)
        document, warnings_only = page_document(kept, suites[path.stem], run)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=path.stem),
            run_id=RunIdentifier(run_name=run, run_time=_run_time(kept)),
            batch_identifier=batch_name(kept),
        )
        context.validation_results_store.set(
            key, expectationSuiteValidationResultSchema.load(document)
        )
        if warnings_only:
            warned.append(page_of(path, site))
    context.build_data_docs()
    vendor = site / VENDOR
    _vendor_copy(vendor)
    for page in site.rglob("*.html"):
        text = _warnings_shown(_offline(page.read_text(encoding="utf-8"), page, vendor))
        if page in warned:
            text = _header_warned(text)
        if page == site / "index.html":
            for link in warned:
                text = _index_warned(text, link.relative_to(site).as_posix())
        text = _TOKEN.sub(lambda m: f"&#x{m[1]};", text)
        page.write_text(with_page_policy(text), encoding="utf-8")
    return site / "index.html"


def main() -> None:
    """uv run python -m boligsocial.validation.data_docs: build the Data Docs site."""
    print(build_data_docs())


if __name__ == "__main__":
    main()
