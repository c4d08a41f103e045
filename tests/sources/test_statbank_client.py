"""The StatBank client against a real local HTTP server replaying recorded API responses."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
import tracemalloc
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from boligsocial.sources import statbank_client as sc

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = REPO / "tests" / "fixtures" / "statbank"
BUNDLED_CACHE = REPO / "sources" / "example" / "statbank"
TABLES = ("FOLK1E", "AUK01", "HFUDD11", "INDKP101", "STRAFNA7")


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = None  # None: the recording of the requested table
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering
    declared_length: int | None = None  # a Content-Length larger than the body: a cut connection
    hang: bool = False  # never answer (until the server closes)
    # A body sent in these pieces without a Content-Length, `pause` seconds apart.
    pieces: Iterable[bytes] | None = None
    pause: float = 0.0


@dataclass
class SeenRequest:
    method: str
    path: str
    content_type: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class ReplayServer:
    """Answers POST /v1/data with the recording of the requested table, or with the replies
    scripted for that table first; every request is kept for the test to inspect."""

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self.script: dict[str, deque[Reply]] = defaultdict(deque)
        self.closing = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> SeenRequest:
                length = int(self.headers.get("Content-Length") or 0)
                seen = SeenRequest(
                    self.command,
                    self.path,
                    self.headers.get("Content-Type", ""),
                    self.rfile.read(length),
                )
                with server._lock:
                    server.requests.append(seen)
                return seen

            def do_GET(self) -> None:
                self._record()
                self.send_error(405)

            def do_POST(self) -> None:
                seen = self._record()
                try:
                    table = seen.json()["table"]
                except (ValueError, KeyError, TypeError):
                    self.send_error(400)
                    return
                with server._lock:
                    queued = server.script[table]
                    reply = queued.popleft() if queued else Reply()
                time.sleep(reply.delay)
                if reply.hang:
                    server.closing.wait()
                    return
                if reply.pieces is not None:
                    self._send_pieces(reply)
                    return
                body = reply.body
                if body is None:
                    body = (RECORDINGS / f"{table}.csv").read_bytes()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/csv; charset=utf-8")
                    self.send_header("Content-Length", str(reply.declared_length or len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests)
                if reply.declared_length is not None:
                    self.close_connection = True

            def _send_pieces(self, reply: Reply) -> None:
                self.close_connection = True  # the end of the body is the end of the connection
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/csv; charset=utf-8")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for piece in reply.pieces:
                        if server.closing.wait(reply.pause):
                            return
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def tables_requested(self) -> list[str]:
        return [request.json()["table"] for request in self.requests]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)
    monkeypatch.delenv(sc.LIVE_ENV, raising=False)
    replay = ReplayServer()
    yield replay
    replay.close()


@pytest.fixture
def config(server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> sc.StatbankConfig:
    """The shipped table list, pointed at the local server, with tiny waits (and timeouts long
    enough for a busy machine: the tests of timeouts use a server that never answers)."""
    monkeypatch.setenv(sc.URL_ENV, server.base_url)
    loaded = sc.load_config()
    api = dataclasses.replace(loaded.api, timeout_seconds=30, max_attempts=3, backoff_seconds=0.01)
    return dataclasses.replace(loaded, api=api)


def only(config: sc.StatbankConfig, table_id: str, **api: object) -> sc.StatbankConfig:
    """The configuration reduced to one table, with other API settings."""
    tables = tuple(t for t in config.tables if t.table_id == table_id)
    return dataclasses.replace(config, tables=tables, api=dataclasses.replace(config.api, **api))


def assert_statbank_requests(server: ReplayServer, config: sc.StatbankConfig) -> None:
    """Every request the server saw is the StatBank data call for a configured table."""
    bodies = {table.table_id: table.body() for table in config.tables}
    for request in server.requests:
        assert request.method == "POST"
        assert request.path == "/v1/data"
        assert request.content_type.startswith("application/json")
        body = request.json()
        assert body["format"] == "CSV"
        assert body["lang"] == "da"
        assert body == bodies[body["table"]]


def recording(table_id: str) -> bytes:
    return (RECORDINGS / f"{table_id}.csv").read_bytes()


def seed_cache(cache_dir: Path) -> dict[str, bytes]:
    """A previous cache whose content differs from the recordings."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    old = {}
    for table_id in TABLES:
        old[table_id] = recording(table_id).replace(b"\n", b"\r\n")
        (cache_dir / f"{table_id}.csv").write_bytes(old[table_id])
    return old


def cache_contents(cache_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cache_dir.iterdir())}


def test_config_lists_the_context_tables() -> None:
    config = sc.load_config()
    assert tuple(table.table_id for table in config.tables) == TABLES
    folk1e = config.tables[0].body()
    assert folk1e["variables"][0] == {"code": "OMRÅDE", "values": ["000", "330"]}
    assert folk1e["variables"][-1]["values"] == [f"{year}K1" for year in range(2013, 2025)]


def test_recordings_are_statbank_csv_answers_and_bundled_as_the_example_cache() -> None:
    config = sc.load_config()
    for table in config.tables:
        body = recording(table.table_id)
        assert body.startswith(b"\xef\xbb\xbf")  # lang=da answers carry a UTF-8 BOM
        path = RECORDINGS / f"{table.table_id}.csv"
        assert sc.validate_csv(table, path) == table.expected_rows()
        assert (BUNDLED_CACHE / f"{table.table_id}.csv").read_bytes() == body
    assert sorted(path.name for path in BUNDLED_CACHE.iterdir()) == sorted(
        f"{table_id}.csv" for table_id in TABLES
    )


def test_live_refresh_writes_the_recorded_responses(server, config, tmp_path) -> None:
    cache_dir = tmp_path / "statbank"
    result = sc.refresh_cache(config, cache_dir, live=True)

    assert result.live and result.missing == ()
    assert server.tables_requested() == list(TABLES)
    assert_statbank_requests(server, config)
    assert result.files == {table_id: cache_dir / f"{table_id}.csv" for table_id in TABLES}
    assert cache_contents(cache_dir) == {f"{t}.csv": recording(t) for t in TABLES}


def test_live_mode_and_url_come_from_the_environment(server, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(sc.URL_ENV, server.base_url)
    monkeypatch.setenv(sc.LIVE_ENV, "1")
    config = sc.load_config()
    assert config.api.base_url == server.base_url

    result = sc.refresh_cache(config, tmp_path)

    assert result.live
    assert len(server.requests) == len(TABLES)
    assert_statbank_requests(server, config)
    assert cache_contents(tmp_path) == {f"{t}.csv": recording(t) for t in TABLES}


def test_default_base_url_is_the_real_api(monkeypatch) -> None:
    monkeypatch.delenv(sc.URL_ENV, raising=False)
    assert sc.load_config().api.base_url == "https://api.statbank.dk/v1"


def test_offline_uses_the_cache_without_any_request(server, config, tmp_path) -> None:
    cache_dir = tmp_path / "statbank"
    old = seed_cache(cache_dir)
    (cache_dir / "STRAFNA7.csv").unlink()

    result = sc.refresh_cache(config, cache_dir)  # BOLIGSOCIAL_STATBANK_LIVE is unset

    assert server.requests == []
    assert not result.live
    assert result.missing == ("STRAFNA7",)
    assert result.files == {t: cache_dir / f"{t}.csv" for t in TABLES if t != "STRAFNA7"}
    assert cache_contents(cache_dir) == {f"{t}.csv": old[t] for t in TABLES if t != "STRAFNA7"}


def test_a_500_is_retried_and_the_retry_succeeds(server, config, tmp_path) -> None:
    server.script["FOLK1E"].append(Reply(status=500, body=b"Internal Server Error"))

    sc.refresh_cache(config, tmp_path, live=True)

    assert server.tables_requested() == ["FOLK1E", *TABLES]
    assert_statbank_requests(server, config)
    assert (tmp_path / "FOLK1E.csv").read_bytes() == recording("FOLK1E")


def test_a_429_waits_and_is_retried(server, config, tmp_path) -> None:
    server.script["HFUDD11"].append(Reply(status=429, headers={"Retry-After": "0"}))

    sc.refresh_cache(config, tmp_path, live=True)

    assert server.tables_requested().count("HFUDD11") == 2
    assert (tmp_path / "HFUDD11.csv").read_bytes() == recording("HFUDD11")


def test_repeated_503s_fail_clearly_and_keep_the_previous_cache(server, config, tmp_path) -> None:
    old = seed_cache(tmp_path)
    error = b'{"errorTypeCode":"ServiceUnavailable","message":"Statistikbanken er lukket"}'
    server.script["AUK01"].extend(Reply(status=503, body=error) for _ in range(5))

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(config, tmp_path, live=True)

    message = str(raised.value)
    assert "AUK01" in message
    assert "after 3 attempts" in message
    assert "HTTP 503" in message and "Statistikbanken er lukket" in message
    assert server.tables_requested() == ["FOLK1E", "AUK01", "AUK01", "AUK01"]
    # all or nothing: FOLK1E was fetched fine but the cache is the old one, with no temp files
    assert cache_contents(tmp_path) == {f"{t}.csv": old[t] for t in TABLES}


def test_a_400_names_the_table_and_statbank_message_without_retrying(
    server, config, tmp_path
) -> None:
    body = json.dumps(
        {
            "errorTypeCode": "EXTRACT-NOTFOUND",
            "message": "Der findes ikke en værdi med id'et H99 for variablen HFUDD",
        }
    ).encode()
    server.script["HFUDD11"].append(
        Reply(status=400, body=body, headers={"Content-Type": "application/json"})
    )

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(config, tmp_path, live=True)

    message = str(raised.value)
    assert "StatBank table HFUDD11" in message and "HTTP 400" in message
    assert "Der findes ikke en værdi med id'et H99 for variablen HFUDD" in message
    assert "EXTRACT-NOTFOUND" in message
    assert server.tables_requested() == ["FOLK1E", "AUK01", "HFUDD11"]
    assert list(tmp_path.iterdir()) == []


def test_a_timeout_is_retried_and_then_succeeds(server, config, tmp_path) -> None:
    server.script["INDKP101"].append(Reply(hang=True))

    sc.refresh_cache(only(config, "INDKP101", timeout_seconds=0.5), tmp_path, live=True)

    assert server.tables_requested() == ["INDKP101", "INDKP101"]
    assert (tmp_path / "INDKP101.csv").read_bytes() == recording("INDKP101")


def test_persistent_timeouts_fail_clearly(server, config, tmp_path) -> None:
    server.script["INDKP101"].extend(Reply(hang=True) for _ in range(3))

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(only(config, "INDKP101", timeout_seconds=0.5), tmp_path, live=True)

    message = str(raised.value)
    assert "INDKP101" in message and "after 3 attempts" in message
    assert "ReadTimeout after 0.5 s" in message
    assert server.tables_requested() == ["INDKP101"] * 3
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_retried_then_fails(config, tmp_path) -> None:
    closed = ReplayServer()
    closed.close()  # nothing listens on its port any more
    api = dataclasses.replace(config.api, base_url=closed.base_url)

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(dataclasses.replace(config, api=api), tmp_path, live=True)

    assert "FOLK1E" in str(raised.value) and "ConnectError" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def _cut_mid_row(body: bytes) -> bytes:
    return body[: body.rindex(b";")]


def _cut_whole_rows(body: bytes) -> bytes:
    return b"".join(body.splitlines(keepends=True)[:-3])


@pytest.mark.parametrize(
    ("reply_body", "expected"),
    [
        (_cut_mid_row(recording("STRAFNA7")), "row 23: 3 fields, the header has 4"),
        (_cut_whole_rows(recording("STRAFNA7")), "19 data rows, expected 22"),
        (recording("STRAFNA7")[:-4], "column INDHOLD: '' is neither a number"),
        (b"<html><body>Statistikbanken</body></html>", "last column is"),
        (recording("FOLK1E"), "do not match the requested variables"),
        (b"", "is empty"),
        ("OMRÅDE;OVERTRÆD;TID;INDHOLD\n".encode("latin-1"), "not UTF-8"),
    ],
    ids=[
        "cut-mid-row",
        "cut-whole-rows",
        "cut-before-value",
        "html",
        "other-table",
        "empty",
        "latin1",
    ],
)
def test_an_invalid_body_is_rejected_and_not_written(
    server, config, tmp_path, reply_body, expected
) -> None:
    old = seed_cache(tmp_path)
    server.script["STRAFNA7"].append(Reply(body=reply_body))

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(config, tmp_path, live=True)

    assert "StatBank table STRAFNA7" in str(raised.value)
    assert expected in str(raised.value)
    assert server.tables_requested().count("STRAFNA7") == 1  # a wrong answer is not retried
    assert cache_contents(tmp_path) == {f"{t}.csv": old[t] for t in TABLES}


def test_a_connection_cut_mid_body_is_retried(server, config, tmp_path) -> None:
    body = recording("STRAFNA7")
    server.script["STRAFNA7"].append(Reply(body=body[:200], declared_length=len(body)))

    sc.refresh_cache(config, tmp_path, live=True)

    assert server.tables_requested().count("STRAFNA7") == 2
    assert (tmp_path / "STRAFNA7.csv").read_bytes() == body


def test_backoff_doubles_between_attempts_and_is_capped(server, config, tmp_path) -> None:
    api = dataclasses.replace(
        config.api, max_attempts=5, backoff_seconds=0.01, max_backoff_seconds=0.03
    )
    server.script["FOLK1E"].extend(Reply(status=502) for _ in range(5))
    waits: list[float] = []

    with httpx.Client(timeout=30.0) as client, pytest.raises(sc.StatbankError):
        sc.fetch_table(client, api, config.tables[0], tmp_path / "body", sleep=waits.append)

    assert waits == [0.01, 0.02, 0.03, 0.03]
    assert server.tables_requested() == ["FOLK1E"] * 5


def test_cli_is_offline_by_default_and_fetches_with_live(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(sc.URL_ENV, server.base_url)

    assert sc.main(["--cache-dir", str(tmp_path)]) == 0
    assert server.requests == []
    assert "no cached response" in capsys.readouterr().err

    assert sc.main(["--live", "--cache-dir", str(tmp_path)]) == 0
    assert "FOLK1E: fetched from" in capsys.readouterr().out
    assert cache_contents(tmp_path) == {f"{t}.csv": recording(t) for t in TABLES}

    server.script["AUK01"].append(Reply(status=404, body=b"Not Found"))
    assert sc.main(["--live", "--cache-dir", str(tmp_path)]) == 1
    assert "error: StatBank table AUK01: HTTP 404: Not Found" in capsys.readouterr().err


# A table whose answer has any number of rows (StatBank expands "*" itself).
ANY_ROWS = sc.TableRequest("BIG", (sc.Variable("OMRÅDE", ("*",)), sc.Variable("TID", ("*",))))
BIG_HEADER = "\ufeffOMRÅDE;TID;INDHOLD\r\n".encode()
BIG_ROW = ("Hele landet, " + "x" * 200 + ";2024K1;123456\r\n").encode()


def big_body(megabytes: int) -> list[bytes]:
    """A valid StatBank answer of about `megabytes` MB, in pieces of about 1 MB."""
    rows = BIG_ROW * (1024**2 // len(BIG_ROW))
    return [BIG_HEADER, *[rows] * megabytes]


def test_the_body_is_streamed_to_disk_not_held_in_memory(server, config, tmp_path) -> None:
    server.script["BIG"].append(Reply(pieces=big_body(8)))
    destination = tmp_path / "BIG.csv"

    tracemalloc.start()
    try:
        with httpx.Client(timeout=30.0) as client:
            size = sc.fetch_table(client, config.api, ANY_ROWS, destination)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size == destination.stat().st_size > 7 * 1024**2
    assert peak < 2 * 1024**2  # the 8 MB body was never in memory (it was 9x that before)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_byte_limit_is_refused_and_the_cache_kept(
    server, config, tmp_path, declared
) -> None:
    old = seed_cache(tmp_path)
    body = recording("AUK01")
    reply = Reply(body=body) if declared else Reply(pieces=[body[:1000], body[1000:]])
    server.script["AUK01"].append(reply)

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(only(config, "AUK01", max_bytes=len(body) - 1), tmp_path, live=True)

    message = str(raised.value)
    assert "StatBank table AUK01" in message
    assert f"larger than {len(body) - 1:,} bytes (max_bytes in [api]" in message
    assert server.tables_requested().count("AUK01") == 1  # not retried
    assert cache_contents(tmp_path) == {f"{t}.csv": old[t] for t in TABLES}


def test_a_trickling_server_meets_the_total_deadline(server, config, tmp_path) -> None:
    """1 byte at a time: no read ever times out, so only the deadline ends it. The client's
    clock is fake: 1 s passes at every look."""
    old = seed_cache(tmp_path)
    body = recording("STRAFNA7")
    server.script["STRAFNA7"].append(
        Reply(pieces=(body[i : i + 1] for i in range(len(body))), pause=0.001)
    )
    clock = itertools.count(start=0.0, step=1.0).__next__

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(
            only(config, "STRAFNA7", deadline_seconds=20), tmp_path, live=True, clock=clock
        )

    message = str(raised.value)
    assert "StatBank table STRAFNA7: no complete answer within 20 s" in message
    assert "deadline_seconds in [api]" in message
    assert server.tables_requested() == ["STRAFNA7"]
    assert cache_contents(tmp_path) == {f"{t}.csv": old[t] for t in TABLES}


def test_a_retry_that_would_end_after_the_deadline_is_not_made(server, config, tmp_path) -> None:
    server.script["FOLK1E"].extend(
        Reply(status=503, headers={"Retry-After": "30"}) for _ in range(2)
    )
    with pytest.raises(sc.StatbankError, match=r"no complete answer within 20 s.*HTTP 503"):
        sc.refresh_cache(
            only(config, "FOLK1E", deadline_seconds=20, max_backoff_seconds=30),
            tmp_path,
            live=True,
            sleep=pytest.fail,
        )
    assert server.tables_requested() == ["FOLK1E"]


def test_a_body_the_reader_rejects_keeps_the_last_good_cache(server, config, tmp_path) -> None:
    """`..` only means a suppressed number: the reader refuses it as a year, on every run."""
    old = seed_cache(tmp_path)
    body = recording("STRAFNA7").replace(b";2013;", b";..;", 1)
    server.script["STRAFNA7"].append(Reply(body=body))

    with pytest.raises(sc.StatbankError) as raised:
        sc.refresh_cache(config, tmp_path, live=True)

    message = str(raised.value)
    assert "StatBank table STRAFNA7: the response is not readable" in message
    assert "TID" in message
    assert cache_contents(tmp_path) == {f"{t}.csv": old[t] for t in TABLES}


def test_a_body_that_cannot_be_decoded_is_a_statbank_error(server, config, tmp_path) -> None:
    server.script["FOLK1E"].append(
        Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(sc.StatbankError, match="StatBank table FOLK1E: DecodingError"):
        sc.refresh_cache(config, tmp_path, live=True)
    assert list(tmp_path.iterdir()) == []


def test_a_cache_folder_that_cannot_be_written_is_a_statbank_error(server, config, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(sc.StatbankError, match=r"StatBank cache .*file/statbank"):
        sc.refresh_cache(config, tmp_path / "file" / "statbank", live=True)


def test_what_a_killed_refresh_left_is_removed_by_the_next(server, config, tmp_path) -> None:
    leftover = tmp_path / f"{sc.STAGING_PREFIX}dead"
    leftover.mkdir()
    (leftover / "FOLK1E.csv").write_bytes(recording("FOLK1E")[:100])

    sc.refresh_cache(config, tmp_path, live=True)

    assert cache_contents(tmp_path) == {f"{t}.csv": recording(t) for t in TABLES}


def test_the_municipality_comes_from_boligsocial_toml(monkeypatch, tmp_path) -> None:
    settings = tmp_path / "boligsocial.toml"
    settings.write_text('[municipality]\nname = "Eksempel Kommune"\ncode = 61\n', "utf-8")
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(settings))
    folk1e = sc.load_config().tables[0].body()
    assert folk1e["variables"][0] == {"code": "OMRÅDE", "values": ["000", "061"]}
    # Without a code the cached responses are still read; only a live request needs it.
    settings.write_text('[municipality]\nname = "Eksempel Kommune"\n', "utf-8")
    config = sc.load_config()
    assert sc.refresh_cache(config, tmp_path / "cache", live=False).live is False
    with pytest.raises(sc.StatbankError, match=r"\[municipality\] code"):
        config.tables[0].body()


def test_a_table_list_without_the_municipality_needs_no_code(monkeypatch, tmp_path) -> None:
    (tmp_path / "boligsocial.toml").write_text("", "utf-8")
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(tmp_path / "boligsocial.toml"))
    tables = tmp_path / "tables.toml"
    tables.write_text('[[table]]\nid = "FOLK1E"\nvariables = [{code = "OMRÅDE", values = ["000"]}]')
    assert sc.load_config(tables).tables[0].body()["variables"][0]["values"] == ["000"]
