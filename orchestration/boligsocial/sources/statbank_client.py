"""Danmarks Statistik StatBank API client: refresh the cached `statbank/<TABLE>.csv` responses.

Offline is the default: nothing is requested unless live mode is asked for (`live=True`, the
CLI's `--live` or BOLIGSOCIAL_STATBANK_LIVE=1). In live mode every configured table is fetched
with `POST <base>/data` (format CSV, lang da), streamed to a file beside the cache (at most
`max_bytes`, within `deadline_seconds` for all attempts), checked, and read by the reader
`boligsocial.sources.statbank` as ingest will; only when all of them are complete the cache files
are replaced, each by an atomic rename, so the last good files stay otherwise. The files keep the
API's bytes exactly (UTF-8 with BOM, `;`, decimal comma, `..`). Every failure is a
`StatbankError`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from boligsocial.configuration import settings

DEFAULT_BASE_URL = "https://api.statbank.dk/v1"
DEFAULT_CONFIG_PATH = Path(__file__).with_name("statbank_tables.toml")
MUNICIPALITY = "{municipality_code}"  # in a value: the municipality's code (boligsocial.toml)
URL_ENV = "BOLIGSOCIAL_STATBANK_URL"
LIVE_ENV = "BOLIGSOCIAL_STATBANK_LIVE"

VALUE_COLUMN = "INDHOLD"
SUPPRESSED = ".."
_NUMBER = re.compile(r"-?\d+(,\d+)?")
# Value selections that StatBank expands itself ("*", "(-n+3)", ">=2013<=2020"), so the
# number of rows in the answer cannot be known in advance.
_EXPRESSION = re.compile(r"[*()<>=]")
_RETRYABLE_STATUS = frozenset({429}) | frozenset(range(500, 600))
# Read no more of an error response than this: its message is at the start.
ERROR_BODY_BYTES = 64 * 1024
# Where a live refresh stages its files, inside the cache folder (hidden from `*.csv`).
STAGING_PREFIX = ".statbank-refresh-"

log = logging.getLogger(__name__)


class StatbankError(RuntimeError):
    """A table could not be fetched or its response is not a complete StatBank CSV."""


@dataclass(frozen=True)
class Variable:
    code: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class TableRequest:
    table_id: str
    variables: tuple[Variable, ...]

    def body(self) -> dict[str, object]:
        """The request; a value still holding {municipality_code} cannot be asked for."""
        for variable in self.variables:
            if any(MUNICIPALITY in value for value in variable.values):
                raise StatbankError(
                    f"table {self.table_id}: {MUNICIPALITY} needs [municipality] code in "
                    "boligsocial.toml"
                )
        return {
            "table": self.table_id,
            "format": "CSV",
            "lang": "da",
            "variables": [{"code": v.code, "values": list(v.values)} for v in self.variables],
        }

    def expected_rows(self) -> int | None:
        """Rows in a complete answer, or None when a selection is expanded by StatBank."""
        values = [value for variable in self.variables for value in variable.values]
        if any(_EXPRESSION.search(value) for value in values):
            return None
        return math.prod(len(variable.values) for variable in self.variables)


@dataclass(frozen=True)
class ApiSettings:
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 60.0
    max_attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    # A response larger than this is refused (a municipality's context tables are KBs).
    max_bytes: int = 100 * 1024**2
    # Every attempt for one table, waits included, ends within this (a trickling server).
    deadline_seconds: float = 600.0

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt number `attempt` (1-based): doubling, capped."""
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)


@dataclass(frozen=True)
class StatbankConfig:
    api: ApiSettings
    tables: tuple[TableRequest, ...]


@dataclass(frozen=True)
class RefreshResult:
    live: bool
    files: dict[str, Path]  # table id -> its cache file, for every table that has one
    missing: tuple[str, ...]  # configured tables without a cache file (offline mode only)


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> StatbankConfig:
    """Read the table list; the base URL comes from BOLIGSOCIAL_STATBANK_URL if set, and
    `{municipality_code}` in a value is the code of boligsocial.toml's [municipality]."""
    from boligsocial.configuration.config import load

    municipality = load().municipality.code
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StatbankError(f"{path}: cannot read the StatBank configuration: {exc}") from exc

    api_raw = raw.get("api", {})
    try:
        api = ApiSettings(
            base_url=os.environ.get(URL_ENV, "").strip() or DEFAULT_BASE_URL,
            timeout_seconds=float(api_raw.get("timeout_seconds", ApiSettings.timeout_seconds)),
            max_attempts=int(api_raw.get("max_attempts", ApiSettings.max_attempts)),
            backoff_seconds=float(api_raw.get("backoff_seconds", ApiSettings.backoff_seconds)),
            max_backoff_seconds=float(
                api_raw.get("max_backoff_seconds", ApiSettings.max_backoff_seconds)
            ),
            max_bytes=int(api_raw.get("max_bytes", ApiSettings.max_bytes)),
            deadline_seconds=float(api_raw.get("deadline_seconds", ApiSettings.deadline_seconds)),
        )
    except (TypeError, ValueError) as exc:
        raise StatbankError(f"{path}: [api]: {exc}") from exc
    positive = ("max_attempts", "timeout_seconds", "max_bytes", "deadline_seconds")
    if any(getattr(api, name) <= 0 for name in positive):
        raise StatbankError(f"{path}: [api]: {', '.join(positive)} must be positive")

    tables = []
    for index, table_raw in enumerate(raw.get("table", []), start=1):
        table_id = str(table_raw.get("id", "")).strip()
        where = f"{path}: table {table_id or f'#{index}'}"
        if not re.fullmatch(r"[A-Za-z0-9]+", table_id):
            raise StatbankError(f"{where}: `id` must be a StatBank table id such as FOLK1E")
        variables = []
        for variable_raw in table_raw.get("variables", []):
            code = str(variable_raw.get("code", "")).strip()
            values = variable_raw.get("values")
            if not code or not isinstance(values, list) or not values:
                raise StatbankError(f"{where}: each variable needs a `code` and a list of values")
            # Without a code the placeholder stays: only a live request needs it (body()).
            if municipality is not None:
                code_text = f"{municipality:03d}"
                values = [str(value).replace(MUNICIPALITY, code_text) for value in values]
            variables.append(Variable(code, tuple(values)))
        if not variables:
            raise StatbankError(f"{where}: no variables configured")
        tables.append(TableRequest(table_id.upper(), tuple(variables)))
    ids = [table.table_id for table in tables]
    if not tables or len(set(ids)) != len(ids):
        raise StatbankError(f"{path}: configure each [[table]] once, at least one")
    return StatbankConfig(api, tuple(tables))


def live_from_env() -> bool:
    return os.environ.get(LIVE_ENV, "").strip().lower() in {"1", "true", "yes"}


def default_cache_dir() -> Path:
    return settings.sources_dir() / "statbank"


def api_error_message(body: bytes) -> str:
    """StatBank's error text: the `message` of its JSON error body, else the body's start."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict) and payload.get("message"):
        code = payload.get("errorTypeCode")
        return f"{payload['message']} ({code})" if code else str(payload["message"])
    text = body.decode("utf-8", errors="replace").strip()
    return text[:300] if text else "(empty body)"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class _Refused(Exception):
    """A response that a retry would not mend: the message names the table's problem."""


def _chunks(response: httpx.Response, deadline: float, clock: Callable[[], float]) -> Iterator:
    # As they arrive (no re-chunking): a server trickling bytes meets the deadline at once.
    for chunk in response.iter_bytes():
        if clock() > deadline:
            raise _Refused("deadline")
        yield chunk


def _receive(
    response: httpx.Response,
    destination: Path,
    api: ApiSettings,
    deadline: float,
    clock: Callable[[], float],
) -> int:
    """Stream a 200 response's body into `destination`, never more than `api.max_bytes`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > api.max_bytes:
        raise _Refused("size")
    received = 0
    with destination.open("wb") as handle:
        for chunk in _chunks(response, deadline, clock):
            received += len(chunk)
            if received > api.max_bytes:
                raise _Refused("size")
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return received


def _error_body(response: httpx.Response, deadline: float, clock: Callable[[], float]) -> bytes:
    body = b""
    for chunk in _chunks(response, deadline, clock):
        body += chunk
        if len(body) >= ERROR_BODY_BYTES:
            break
    return body


def fetch_table(
    client: httpx.Client,
    api: ApiSettings,
    table: TableRequest,
    destination: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """POST one table's request, stream the body into `destination`, check it; return its size.

    Connect errors, timeouts, broken connections, 5xx and 429 are retried with exponential
    backoff up to `api.max_attempts` attempts, all within `api.deadline_seconds`; any other
    status, a body over `api.max_bytes` or an invalid body fails at once.
    """
    url = f"{api.base_url.rstrip('/')}/data"
    where = f"StatBank table {table.table_id}"
    deadline = clock() + api.deadline_seconds
    problem = ""
    for attempt in range(1, api.max_attempts + 1):
        wait = api.backoff(attempt)
        try:
            with client.stream("POST", url, json=table.body()) as response:
                if response.status_code == 200:
                    size = _receive(response, destination, api, deadline, clock)
                    validate_csv(table, destination)
                    return size
                message = api_error_message(_error_body(response, deadline, clock))
            problem = f"HTTP {response.status_code}: {message}"
            if response.status_code not in _RETRYABLE_STATUS:
                raise StatbankError(f"{where}: {problem} (POST {url})")
            wait = min(_retry_after(response) or wait, api.max_backoff_seconds)
        except _Refused as refused:
            if str(refused) == "size":
                raise StatbankError(
                    f"{where}: the response is larger than {api.max_bytes:,} bytes "
                    f"(max_bytes in [api] of {DEFAULT_CONFIG_PATH.name}) (POST {url})"
                ) from None
            raise StatbankError(
                f"{where}: no complete answer within {api.deadline_seconds:g} s "
                f"(deadline_seconds in [api] of {DEFAULT_CONFIG_PATH.name}) (POST {url})"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise StatbankError(f"{where}: bad URL {url}: {exc}") from exc
        except httpx.TimeoutException as exc:
            problem = f"{type(exc).__name__} after {api.timeout_seconds:g} s ({exc})"
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        except (httpx.HTTPError, httpx.StreamError) as exc:  # e.g. a body that fails to decode
            raise StatbankError(f"{where}: {type(exc).__name__}: {exc} (POST {url})") from exc
        except OSError as exc:
            raise StatbankError(f"{where}: cannot write {destination}: {exc}") from exc
        if attempt < api.max_attempts:
            if clock() + wait > deadline:
                raise StatbankError(
                    f"{where}: no complete answer within {api.deadline_seconds:g} s "
                    f"(deadline_seconds in [api] of {DEFAULT_CONFIG_PATH.name}); last error: "
                    f"{problem} (POST {url})"
                )
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %.2f s",
                where,
                attempt,
                api.max_attempts,
                problem,
                wait,
            )
            sleep(wait)
    raise StatbankError(
        f"{where}: giving up after {api.max_attempts} attempts (POST {url}); last error: {problem}"
    )


def validate_csv(table: TableRequest, path: Path) -> int:
    """Check that the file is a complete StatBank CSV answer to `table`; return its row count.
    Reads one row at a time."""
    where = f"StatBank table {table.table_id}: response"
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _validate_rows(table, where, csv.reader(handle, delimiter=";"))
    except UnicodeDecodeError as exc:
        raise StatbankError(f"{where} is not UTF-8 ({exc})") from exc
    except (OSError, csv.Error) as exc:
        raise StatbankError(f"{where}: {exc}") from exc


def _validate_rows(table: TableRequest, where: str, rows: Iterator[list[str]]) -> int:
    header = [column.strip() for column in next(rows, [])]
    if not header:
        raise StatbankError(f"{where} is empty")
    if header[-1] != VALUE_COLUMN:
        raise StatbankError(
            f"{where} is not a StatBank CSV: last column is {header[-1][:40]!r}, "
            f"expected {VALUE_COLUMN} (header {';'.join(header)[:120]!r})"
        )
    requested = {variable.code.upper() for variable in table.variables}
    if {column.upper() for column in header[:-1]} != requested:
        raise StatbankError(
            f"{where}: columns {header[:-1]} do not match the requested variables "
            f"{sorted(requested)}"
        )
    data = 0
    for line, row in enumerate(rows, start=2):
        data += 1
        if len(row) != len(header):
            raise StatbankError(
                f"{where}, row {line}: {len(row)} fields, the header has {len(header)} "
                "(truncated or malformed body)"
            )
        value = row[-1].strip()
        if value != SUPPRESSED and not _NUMBER.fullmatch(value):
            raise StatbankError(
                f"{where}, row {line}, column {VALUE_COLUMN}: {value!r} is neither a number "
                f"nor {SUPPRESSED!r}"
            )
    expected = table.expected_rows()
    if not data or (expected is not None and data != expected):
        wanted = "at least 1" if expected is None else str(expected)
        raise StatbankError(
            f"{where} has {data} data rows, expected {wanted} (truncated or incomplete)"
        )
    return data


def _read_as_ingest_does(table: TableRequest, path: Path) -> None:
    """Refuse a body that the reader would reject on every run once it is in the cache."""
    # Imported here: pandas is needed only in live mode.
    from boligsocial.sources.errors import SourceError
    from boligsocial.sources.statbank import read_statbank

    try:
        read_statbank(path)
    except SourceError as exc:
        raise StatbankError(
            f"StatBank table {table.table_id}: the response is not readable: {exc}"
        ) from exc


def refresh_cache(
    config: StatbankConfig,
    cache_dir: Path,
    *,
    live: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RefreshResult:
    """Fetch every configured table into `<cache_dir>/<TABLE>.csv` in live mode; else only
    report the cached files. `live=None` means BOLIGSOCIAL_STATBANK_LIVE decides.

    Live mode is all or nothing: if any table fails, a StatbankError is raised and no cache
    file is touched; a killed refresh leaves a hidden staging folder that the next removes.
    """
    if live is None:
        live = live_from_env()
    paths = {table.table_id: cache_dir / f"{table.table_id}.csv" for table in config.tables}
    if not live:
        missing = tuple(table_id for table_id, path in paths.items() if not path.is_file())
        if not cache_dir.is_dir():  # the folder is optional: its absence is no warning
            log.info("StatBank: no %s folder, so no StatBank tables", cache_dir.name)
        for table_id in missing if cache_dir.is_dir() else ():
            log.warning("StatBank table %s: no cached response at %s", table_id, paths[table_id])
        present = {table_id: path for table_id, path in paths.items() if path.is_file()}
        return RefreshResult(live=False, files=present, missing=missing)

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for leftover in cache_dir.glob(f"{STAGING_PREFIX}*"):  # of a killed refresh
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=STAGING_PREFIX))
    except OSError as exc:
        raise StatbankError(f"StatBank cache {cache_dir}: {exc}") from exc
    try:
        with httpx.Client(
            timeout=httpx.Timeout(config.api.timeout_seconds),
            headers={"User-Agent": "boligsocial-pipeline (StatBank cache refresh)"},
        ) as client:
            for table in config.tables:
                body = staging / paths[table.table_id].name
                size = fetch_table(client, config.api, table, body, sleep=sleep, clock=clock)
                _read_as_ingest_does(table, body)
                log.info("StatBank table %s: %d bytes", table.table_id, size)
        for path in paths.values():
            os.replace(staging / path.name, path)
        _fsync_dir(cache_dir)
    except OSError as exc:
        raise StatbankError(f"StatBank cache {cache_dir}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RefreshResult(live=True, files=paths, missing=())


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boligsocial.sources.statbank_client",
        description="Refresh the cached StatBank responses (offline unless --live).",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        default=live_from_env(),
        help=f"fetch from the API (default: {LIVE_ENV}=1); otherwise only list the cache",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_dir(),
        help="cache folder (default: $BOLIGSOCIAL_SOURCES_DIR/statbank, else the example's)",
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    try:
        config = load_config(args.config)
        result = refresh_cache(config, args.cache_dir, live=args.live)
    except StatbankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    mode = f"fetched from {config.api.base_url}" if result.live else "cached (offline)"
    for table_id, path in result.files.items():
        print(f"{table_id}: {mode}: {path}")
    for table_id in result.missing:
        print(f"{table_id}: no cached response in {args.cache_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
