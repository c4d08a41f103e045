"""The GX Data Docs as deploy/ serves them, under /gx/ on the Dagster UI's origin behind the
login: real Caddy (and nginx) in front of a stand-in for the Dagster webserver that records
every request, the site built from a real validation result, headless Chromium logged in.

The case is the one escaping cannot rule out: a missed escape lets a <script> into a page, and
the build hashes it into the page's policy with GX's own. The script runs, but sandboxed: it
reads nothing of the UI's origin, opens no window, sends no form, and no request of the page
leaves /gx/; the stand-in UI hears nothing. Both proxies send the one policy
(validation/data_docs.py's SERVED_POLICY), which the first test holds them to."""

from __future__ import annotations

import base64
import getpass
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.loading.reading import read_files
from boligsocial.loading.warehouse import source_files
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.data_docs import (
    PAGE_POLICY,
    SERVED_POLICY,
    build_data_docs,
    page_of,
    with_page_policy,
)
from tests.support.chromium import CHROMIUM, Browser
from tests.support.validation import validate_load

# The slow tier: proxy servers and a browser.
pytestmark = pytest.mark.slow

DEPLOY = settings.PROJECT_ROOT / "deploy"
CADDY_SITE = "{scheme}://{hostport}/gx/"
NGINX_SITE = "$scheme://$http_host/gx/"
USER, PASSWORD = "operator", "hemmeligt-kodeord"
# What a script that got into a page would try against the UI: each step records its outcome.
ATTACK = """<script>
window.__attack = {ran: true};
const note = (k, f) => { try { window.__attack[k] = String(f()); }
                         catch (e) { window.__attack[k] = "refused: " + e.name; } };
note("origin", () => window.origin);
note("cookie", () => document.cookie);
note("storage", () => localStorage.length);
note("popup", () => window.open("/", "_blank"));
note("fetch", () => fetch("/graphql?query=mutation%7BlaunchRun%7D").catch(() => 0) && "sent");
note("image", () => { new Image().src = "/graphql?query=mutation%7BimageRun%7D"; return "set"; });
note("form", () => { const f = document.createElement("form"); f.method = "post";
    f.action = "/graphql?query=mutation%7BformRun%7D"; document.body.appendChild(f); f.submit();
    return "submitted"; });
</script>"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


class StandInUI:
    """A stand-in for the Dagster webserver behind the proxy: answers a page (that asks for no
    favicon), records each request."""

    def __init__(self) -> None:
        heard = self.heard = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                heard.append(f"{self.command} {self.path}")
                body = b'<!DOCTYPE html><link rel="icon" href="data:,"><title>UI</title>'
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait_for(url: str, process: subprocess.Popen, context=None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return  # it answers (the login)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    """A site with one rejected delivery; returns it and the page of the rejection."""
    root = tmp_path_factory.mktemp("served")
    spec = SOURCES_BY_NAME["efforts"]
    frame = read_files(spec, source_files(spec, settings.EXAMPLE_SOURCES_DIR))
    frame.loc[frame.index[1], "spor"] = "<img src=x onerror=alert(1)>"
    report = validate_load(
        "efforts",
        frame,
        run_id="run-1",
        results_dir=root / "results",
    )
    build_data_docs(root / "results", root / "site")
    return root / "site", page_of(report.result_path, root / "site")


def test_both_proxies_send_the_one_policy_with_the_data_docs():
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    expected = SERVED_POLICY.format(site=CADDY_SITE)
    assert f'header Content-Security-Policy "{expected}"' in caddy, (
        f'deploy/Caddyfile: the /gx/ block must say: header Content-Security-Policy "{expected}"'
    )
    expected = SERVED_POLICY.format(site=NGINX_SITE)
    assert f'add_header Content-Security-Policy "{expected}" always;' in nginx, (
        "deploy/nginx.conf: location /gx/ must say: add_header Content-Security-Policy "
        f'"{expected}" always;'
    )
    # The page's own policy asks nothing that the served one refuses.
    assert "'unsafe-eval'" not in PAGE_POLICY + SERVED_POLICY


@pytest.fixture
def caddy(site, tmp_path):
    """Caddy on deploy/Caddyfile (plain HTTP on a free port, admin endpoint off); yields its
    base URL and the stand-in UI."""
    executable = _tool("caddy")
    hashed = subprocess.run(
        [executable, "hash-password", "--plaintext", PASSWORD],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    config = tmp_path / "Caddyfile"
    config.write_text("{\n\tadmin off\n}\n" + (DEPLOY / "Caddyfile").read_text(), "utf-8")
    port, ui = _free_port(), StandInUI()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "BOLIGSOCIAL_UI_HOST": f"http://127.0.0.1:{port}",
        "BOLIGSOCIAL_UI_USER": USER,
        "BOLIGSOCIAL_UI_PASSWORD_HASH": hashed,
        "DAGSTER_UPSTREAM": f"127.0.0.1:{ui.port}",
        "BOLIGSOCIAL_DATA_DOCS_DIR": str(site[0]),
    }
    process = subprocess.Popen(
        [executable, "run", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "caddy.log").open("w"),
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/gx/index.html", process)
        yield f"http://127.0.0.1:{port}", ui
    finally:
        process.terminate()
        process.wait(timeout=10)
        ui.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium")
def test_a_script_that_got_into_a_served_page_cannot_reach_the_ui(site, caddy):
    base, ui = caddy
    site_dir, page = site
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", text, count=1)
    # The missed escape, before the build hashed the page's inline scripts: it is blessed.
    attacked = page.with_name("attacked.html")
    attacked.write_text(with_page_policy(text.replace("<body>", "<body>" + ATTACK, 1)), "utf-8")
    relative = attacked.relative_to(site_dir).as_posix()
    with Browser() as browser:
        browser.login(f"{base}/", USER, PASSWORD)  # the operator logs in to the UI
        ui.heard.clear()
        browser.open(f"{base}/gx/{relative}")
        time.sleep(1)  # let the attempts settle (a refused one makes no request)
        state = browser.evaluate(
            """({attack: window.__attack, live: document.querySelectorAll(".bootstrap-table")
                 .length, jquery: typeof window.jQuery})"""
        )
    attack = state["attack"]
    assert attack["ran"]  # the script ran: the page's own policy could not tell it from GX's
    assert attack["origin"] == "null"  # an opaque origin: the sandbox
    assert attack["cookie"].startswith("refused: SecurityError")
    assert attack["storage"].startswith("refused: SecurityError")
    assert attack["popup"] == "null"
    assert ui.heard == []  # no fetch, image or form reached the UI
    # The page itself works: its scripts and styles came through the login.
    assert (state["live"] > 0, state["jquery"]) == (True, "function")
    refused = " ".join(browser.log.console_errors)
    assert "connect-src" in refused and "img-src" in refused
    # The UI itself is still served through the proxy, with the login.
    request = urllib.request.Request(f"{base}/runs")
    request.add_header("Authorization", "Basic " + _basic())
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200 and ui.heard == ["GET /runs"]


def _basic() -> str:
    return base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def test_nginx_sends_the_policy_with_the_data_docs_only(site, tmp_path):
    executable, openssl = _tool("nginx"), _tool("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        capture_output=True, check=True,
    )  # fmt: skip
    htpasswd = subprocess.run(
        [openssl, "passwd", "-apr1", PASSWORD], capture_output=True, text=True, check=True
    ).stdout.strip()
    (tmp_path / "htpasswd").write_text(f"{USER}:{htpasswd}\n")
    port, ui = _free_port(), StandInUI()
    conf = (
        (DEPLOY / "nginx.conf")
        .read_text()
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/ssl/certs/boligsocial.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/private/boligsocial.key", str(tmp_path / "key.pem"))
        .replace("/etc/boligsocial/htpasswd", str(tmp_path / "htpasswd"))
        .replace("/srv/boligsocial/publish/gx_data_docs/", f"{site[0]}/")
        .replace("http://127.0.0.1:3000", f"http://127.0.0.1:{ui.port}")
    )
    (tmp_path / "site.conf").write_text(conf)
    main = tmp_path / "nginx.conf"
    main.write_text(
        # Workers as the test's user: the site is in its private temporary folder.
        f"user {getpass.getuser()};\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "daemon off;\n"
        f"events {{}}\nhttp {{ access_log off; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n"
    )
    process = subprocess.Popen(
        [executable, "-c", str(main), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        base = f"https://127.0.0.1:{port}"
        _wait_for(f"{base}/gx/index.html", process, context)

        def headers(path: str) -> dict[str, str]:
            request = urllib.request.Request(base + path)
            request.add_header("Authorization", "Basic " + _basic())
            with urllib.request.urlopen(request, timeout=5, context=context) as answer:
                return dict(answer.headers)

        served = headers("/gx/index.html")
        site_source = f"https://127.0.0.1:{port}/gx/"
        assert served["Content-Security-Policy"] == SERVED_POLICY.format(site=site_source)
        assert served["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in headers("/runs")  # the UI sends its own
        assert ui.heard == ["GET /runs"]
        # The static files without the login; the pages (the data) only with it.
        static = f"{base}/gx/static/vendor/jquery/jquery.min.js"
        with urllib.request.urlopen(static, timeout=5, context=context) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(f"{base}/gx/index.html", timeout=5, context=context)
    finally:
        process.terminate()
        process.wait(timeout=10)
        ui.close()
