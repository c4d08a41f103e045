"""The production recipe in deploy/: the systemd units verified by systemd-analyze and their
start commands run, the reverse proxies by Caddy and nginx themselves (where installed),
compose.yaml's shape (both services on dagster.postgres.yaml, only the authenticating proxy
reachable from outside), the example environment files, .dockerignore, the instances' tick
retention and docs/operations.md (backup, retention, upgrading, an offline install).

Not verified here: a container build or `docker compose up` (no Docker engine in this sandbox),
nor the units running under systemd (systemd is not PID 1 here).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import tomllib
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


def test_the_units_create_dagster_home_before_they_copy_the_instance_file_into_it(tmp_path):
    """The units' ExecStartPre lines, run as written (the checkout for /opt/boligsocial), make
    a DAGSTER_HOME that does not exist yet and put dagster.postgres.yaml in it."""
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        assert "StateDirectory=boligsocial\n" in text  # /var/lib/boligsocial, the user's
        home = tmp_path / unit.stem / "var" / "dagster_home"
        for line in re.findall(r"^ExecStartPre=(.+)$", text, re.MULTILINE):
            command = line.replace("${DAGSTER_HOME}", str(home))
            command = command.replace("/opt/boligsocial", str(settings.PROJECT_ROOT))
            subprocess.run(shlex.split(command), check=True)
        assert (home / "dagster.yaml").read_bytes() == (
            settings.PROJECT_ROOT / "dagster.postgres.yaml"
        ).read_bytes()
        # ProtectHome hides /home and /root: the unit says what that means for the venv.
        assert "ProtectHome=yes" in text and "UV_PYTHON_INSTALL_DIR=/opt" in text
    state = _env_keys(DEPLOY / "boligsocial.env.example")
    assert state >= {"BOLIGSOCIAL_HOME", "DAGSTER_HOME"}
    assert "DAGSTER_HOME=/var/lib/boligsocial/" in (DEPLOY / "boligsocial.env.example").read_text()


def test_proxy_env_example_sets_every_variable_of_the_caddyfile():
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    wanted = set(re.findall(r"\{\$([A-Z0-9_]+)\}", caddyfile))
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    proxy = compose["services"]["proxy"]
    assert "proxy.env" in proxy["env_file"]
    assert _env_keys(DEPLOY / "proxy.env.example") == wanted - set(proxy["environment"])
    assert "proxy.env.example" in (settings.PROJECT_ROOT / "README.md").read_text("utf-8")


def _ignored(patterns: list[str], path: str) -> bool:
    """Whether Docker's build context leaves out `path`: a pattern matches the path or a folder
    of it from the context's root (a leading / changes nothing), `**/` at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    anywhere = ["/".join(parts[i : j + 1]) for i in range(len(parts)) for j in range(i, len(parts))]
    for pattern in (p.lstrip("/") for p in patterns):
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(t, pattern[3:]) for t in anywhere):
                return True
        elif any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            return True
    return False


def test_dockerignore_keeps_the_environment_and_every_installations_state_out_of_the_image():
    lines = (settings.PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    state = [path.split("/")[0] for path in settings.IN_HOME.values()]
    for path in [
        ".venv/bin/python",
        *[f"{p}/x" for p in state if p != settings.CONFIG_FILE_NAME],
        ".bench/national/x.csv",
        "dbt_project/target/manifest.json",
        "deploy/secrets.env",
        "deploy/boligsocial.env",
        "orchestration/boligsocial/__pycache__/x.pyc",
        "warehouse.duckdb",
        ".git/HEAD",
    ]:
        assert _ignored(patterns, path), path
    for path in [
        "orchestration/boligsocial/definitions.py",
        "dbt_project/models/marts/allocation_8020.sql",
        "deploy/boligsocial.env.example",
        "uv.lock",
        "dagster.postgres.yaml",
    ]:
        assert not _ignored(patterns, path), path


def test_both_instances_purge_ticks_alike():
    local, production = (
        yaml.safe_load((settings.PROJECT_ROOT / name).read_text("utf-8"))["retention"]
        for name in ("dagster.yaml", "dagster.postgres.yaml")
    )
    assert local == production
    assert production["sensor"]["purge_after_days"]["skipped"] <= 7


def test_operations_doc_covers_backup_retention_upgrading_and_an_offline_install():
    text = (settings.PROJECT_ROOT / "docs" / "operations.md").read_text("utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings == [
        "Backup and restore",
        "Run history",
        "Upgrading to a new release",
        "Installing without internet",
    ]
    for words in ("flock boligsocial.duckdb.writer cp", "pg_dump", "pg_restore", "gx_results",
                  "dagster instance", "dagster run delete", "--require-hashes"):  # fmt: skip
        assert words in text, words
    assert "docs/operations.md" in (settings.PROJECT_ROOT / "README.md").read_text("utf-8")


def test_the_offline_wheelhouse_is_exactly_the_lock(tmp_path):
    """docs/operations.md's export pins every package the lock installs, with hashes."""
    command = "uv export --frozen --no-dev --no-emit-project --output-file requirements.txt"
    assert command in (settings.PROJECT_ROOT / "docs" / "operations.md").read_text("utf-8")
    uv = shutil.which("uv") or pytest.skip("uv is not on PATH")
    args = [*shlex.split(command)[1:-1], str(tmp_path / "requirements.txt")]
    subprocess.run([uv, *args], cwd=settings.PROJECT_ROOT, check=True, capture_output=True)
    text = (tmp_path / "requirements.txt").read_text("utf-8")
    pins = dict(re.findall(r"^([a-z0-9_.-]+)==([^ ;\\\n]+)", text, re.MULTILINE))
    assert text.count("--hash=sha256:") >= len(pins)
    lock = tomllib.loads((settings.PROJECT_ROOT / "uv.lock").read_text("utf-8"))
    versions = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    for name in ("dagster", "dbt-core", "great-expectations", "duckdb", "pydantic"):
        assert pins[name] == versions[name], name
    assert set(pins) <= set(versions)
