"""The production recipe in deploy/: the systemd units verified by systemd-analyze, the reverse
proxies by Caddy and nginx themselves (where installed), and compose.yaml's shape: both
services on dagster.postgres.yaml, and only the authenticating proxy reachable from outside.

Not verified here: a container build or `docker compose up` (no Docker engine in this sandbox),
nor the units running under systemd (systemd is not PID 1 here).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from boligsocial.configuration import settings

DEPLOY = settings.PROJECT_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def _env_keys(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_units_pass_systemd_analyze_verify(tmp_path: Path):
    analyze = _tool("systemd-analyze")
    # The units as installed under /opt/boligsocial and /etc/boligsocial, pointed at this
    # checkout (its .venv's executables) and at empty environment files.
    for name in ("boligsocial.env", "secrets.env"):
        (tmp_path / name).touch()
    copies = []
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/boligsocial", str(settings.PROJECT_ROOT))
        text = text.replace("/etc/boligsocial/", f"{tmp_path}/")
        copy = tmp_path / unit.name
        copy.write_text(text, encoding="utf-8")
        copies.append(str(copy))
    assert {Path(c).name for c in copies} == {
        "boligsocial-daemon.service",
        "boligsocial-webserver.service",
    }
    done = subprocess.run([analyze, "verify", "--man=no", *copies], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_units_run_both_services_on_postgres_and_the_webserver_on_loopback():
    daemon, webserver = (
        (DEPLOY / "systemd" / f"boligsocial-{n}.service").read_text()
        for n in ("daemon", "webserver")
    )
    for unit in (daemon, webserver):
        assert "dagster.postgres.yaml ${DAGSTER_HOME}/dagster.yaml" in unit
        assert "EnvironmentFile=/etc/boligsocial/secrets.env" in unit
    assert "dagster-daemon run -m boligsocial.definitions" in daemon
    assert "dagster-webserver -m boligsocial.definitions -h 127.0.0.1 -p 3000" in webserver


def test_environment_examples_name_every_folder_and_keep_secrets_apart():
    settings_keys = _env_keys(DEPLOY / "boligsocial.env.example")
    assert {
        "DAGSTER_HOME",
        "BOLIGSOCIAL_HOME",
        "BOLIGSOCIAL_SOURCES_DIR",
        "BOLIGSOCIAL_PUBLISH_DIR",
        "BOLIGSOCIAL_DATA_DOCS_DIR",
        "BOLIGSOCIAL_CONFIG",
        "DAGSTER_PG_HOST",
        "BOLIGSOCIAL_SMTP_HOST",
    } <= settings_keys
    secrets = _env_keys(DEPLOY / "secrets.env.example")
    assert {"DAGSTER_PG_PASSWORD", "BOLIGSOCIAL_SMTP_PASSWORD"} <= secrets
    assert not {k for k in settings_keys if "PASSWORD" in k}
    for line in (DEPLOY / "secrets.env.example").read_text().splitlines():
        assert line.startswith("#") or line.endswith("="), line  # no value in the repo


def test_compose_runs_both_services_on_postgres_behind_the_proxy():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"daemon", "webserver", "postgres", "proxy"} == set(services)
    assert "dagster-daemon run" in services["daemon"]["command"]
    assert "dagster-webserver" in services["webserver"]["command"]
    for name in ("daemon", "webserver"):
        assert "cp dagster.postgres.yaml" in services[name]["command"]
        assert services[name]["environment"]["DAGSTER_PG_HOST"] == "postgres"
        assert "ports" not in services[name]  # only the proxy publishes a port
    assert [s for s, spec in services.items() if "ports" in spec] == ["proxy"]
    mounts = services["daemon"]["volumes"]
    assert any(m.endswith(":/srv/boligsocial/sources:ro") for m in mounts)


def test_caddyfile_is_valid_and_asks_for_a_login():
    caddy = _tool("caddy")
    hashed = subprocess.run(
        [caddy, "hash-password", "--plaintext", "x"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        "PATH": "/usr/bin:/bin",
        "BOLIGSOCIAL_UI_HOST": "localhost:8443",
        "BOLIGSOCIAL_UI_USER": "operator",
        "BOLIGSOCIAL_UI_PASSWORD_HASH": hashed,
        "DAGSTER_UPSTREAM": "127.0.0.1:3000",
        "BOLIGSOCIAL_DATA_DOCS_DIR": "/srv/boligsocial/publish/gx_data_docs",
    }
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert adapted.returncode == 0, adapted.stderr
    assert '"http_basic"' in adapted.stdout and '"reverse_proxy"' in adapted.stdout


def test_nginx_config_is_valid_and_asks_for_a_login(tmp_path: Path):
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        capture_output=True, check=True,
    )  # fmt: skip
    (tmp_path / "htpasswd").write_text("operator:$apr1$x$y\n")
    site = (DEPLOY / "nginx.conf").read_text()
    assert "auth_basic_user_file" in site and "proxy_pass http://127.0.0.1:3000;" in site
    site = (
        site.replace("/etc/ssl/certs/boligsocial.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/private/boligsocial.key", str(tmp_path / "key.pem"))
        .replace("/etc/boligsocial/htpasswd", str(tmp_path / "htpasswd"))
    )
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    done = subprocess.run([nginx, "-t", "-c", str(main)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
