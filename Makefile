# The two commands a new user needs: `make run` (the pipeline on the bundled example) and
# `make test`. Everything installs from uv.lock; uv itself is bootstrapped from PyPI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
# One installation home (default: this checkout, the bundled example's) holds the configuration
# and the state; the paths make needs are derived from it unless set themselves, as the code
# derives the others (boligsocial/configuration/settings.py; tests/configuration/test_home.py).
export BOLIGSOCIAL_HOME ?= $(CURDIR)
export DAGSTER_HOME ?= $(BOLIGSOCIAL_HOME)/.dagster_home
export BOLIGSOCIAL_WAREHOUSE ?= $(BOLIGSOCIAL_HOME)/warehouse/boligsocial.duckdb
export BOLIGSOCIAL_SOURCES_DIR ?= $(CURDIR)/sources/example
# A configuration that cannot be used: one sentence, before a process loads it.
CONFIG_OK = $(UV) run --no-sync python -m boligsocial.configuration
DBT := $(UV) run dbt --quiet
DBT_DIRS := --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project

.PHONY: help uv sync dagster-home dbt-parse run test test-fast ui lint format docs generate instance daemon webserver FORCE

help:
	@echo "make run    materialise every asset on \$$BOLIGSOCIAL_SOURCES_DIR (default: the bundled example)"
	@echo "make test   run the test suite (CI runs it all)"
	@echo "make test-fast   the fast tier: unit and small-integration tests, for the inner loop"
	@echo "make ui     Dagster UI on http://127.0.0.1:3000"
	@echo "make daemon / make webserver   the two services of an unattended installation"
	@echo "make lint   ruff + sqlfluff"
	@echo "make generate   the source contract's copies (dbt source yml, GX suites' column rules) from the catalog"
	@echo "make docs   dbt docs and GX Data Docs"
	@echo "make bench  the national-scale benchmark"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as here and on many CI
# machines), every process would otherwise compile dagster, dbt, GX and the project's own
# modules again.
sync: uv
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(UV) run --frozen --no-sync python -m compileall -q orchestration sources bench

dagster-home:
	@mkdir -p "$(DAGSTER_HOME)" && cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

# dbt's target folder (its own setting, DBT_TARGET_PATH): the manifest the code location loads,
# the partial-parse file, and a folder per run (dagster-dbt's).
export DBT_TARGET_PATH ?= $(CURDIR)/dbt_project/target
DBT_MANIFEST := $(DBT_TARGET_PATH)/manifest.json
DBT_FILES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml dbt_project/profiles.yml dbt_project/selectors.yml
# The manifest depends on the profile too: it names every table's database after the warehouse
# file. This file holds what the profile reads from the environment, and changes only with it.
DBT_PROFILE_INPUTS := $(DBT_TARGET_PATH)/profile_inputs.txt

$(DBT_PROFILE_INPUTS): FORCE
	@mkdir -p "$(@D)"
	@echo "$(BOLIGSOCIAL_WAREHOUSE) $(BOLIGSOCIAL_DBT_TARGET)" | cmp -s - "$@" \
		|| echo "$(BOLIGSOCIAL_WAREHOUSE) $(BOLIGSOCIAL_DBT_TARGET)" > "$@"

$(DBT_MANIFEST): $(DBT_FILES) $(DBT_PROFILE_INPUTS)
	@$(DBT) parse $(DBT_DIRS)

dbt-parse: sync $(DBT_MANIFEST)

run: sync dagster-home dbt-parse
	@$(UV) run python -m boligsocial.runs.refresh

test: sync
	@$(UV) run pytest

# The tests not marked slow (docs/contributing.md): no browser, server, daemon, PostgreSQL,
# killed process or national-scale data, and no whole-project dbt or Dagster run.
test-fast: sync
	@$(UV) run pytest -m "not slow"

# The first time (no warehouse yet) the pipeline runs once, so the UI opens with materialisations,
# their metadata and check results to look at; a failed run still opens the UI to show why.
ui: sync dagster-home dbt-parse
	@$(CONFIG_OK)
	@[ -f "$(BOLIGSOCIAL_WAREHOUSE)" ] || $(UV) run python -m boligsocial.runs.refresh || true
	@$(UV) run dagster dev -m boligsocial.definitions -h 127.0.0.1 -p 3000

# One machine, unattended: the daemon (the monthly schedule, the sensors, the alerts, the run
# queue) and the webserver as two processes (two terminals, or deploy/systemd/). On PostgreSQL
# (dagster.postgres.yaml) when DAGSTER_PG_HOST is set, else on dagster.yaml's SQLite files.
INSTANCE_YAML = $(if $(DAGSTER_PG_HOST),dagster.postgres.yaml,dagster.yaml)
instance: sync dbt-parse
	@$(CONFIG_OK)
	@mkdir -p "$(DAGSTER_HOME)" && cp $(INSTANCE_YAML) "$(DAGSTER_HOME)/dagster.yaml"

daemon: instance
	@$(UV) run dagster-daemon run -m boligsocial.definitions

webserver: instance
	@$(UV) run dagster-webserver -m boligsocial.definitions -h 127.0.0.1 -p 3000

lint: sync
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@# sqlfluff's dbt templater opens the warehouse: its folder must exist on a fresh clone.
	@mkdir -p "$(dir $(BOLIGSOCIAL_WAREHOUSE))"
	@cd dbt_project && $(UV) run sqlfluff lint models tests

# dbt docs (dbt_project/target/index.html) and GX Data Docs (build/gx_data_docs/index.html in the
# installation home)
# from the warehouse and the validation results of past runs.
# Without a warehouse yet (a fresh clone), dbt docs go without the catalog (no column types).
docs: dbt-parse
	@if [ -f "$(BOLIGSOCIAL_WAREHOUSE)" ]; then $(DBT) docs generate $(DBT_DIRS); \
	else echo "No warehouse yet (make run): dbt docs without the catalog."; \
		BOLIGSOCIAL_WAREHOUSE=:memory: $(DBT) docs generate --empty-catalog $(DBT_DIRS); fi
	@echo "dbt docs:     $(DBT_TARGET_PATH)/index.html (or: cd dbt_project && uv run dbt docs serve)"
	@echo "GX Data Docs: $$($(UV) run python -m boligsocial.validation.data_docs)"

# The copies of the source contract other tools read (dbt's source yml, the GX suites' column
# rules and code lists), made from sources/catalog.py and the seed maal_codes; `make test` fails
# while one is not current (tests/contracts/test_generated.py).
generate: sync
	@$(UV) run python -m boligsocial.sources.generate

format: sync
	@$(UV) run ruff format .
	@$(UV) run ruff check --fix .

.PHONY: bench
# Issue 30's targets on the bundled example and a synthetic national delivery (generated once
# into .bench/), each with its figure, baseline, load and PASS/MISS (docs/performance.md).
bench: sync dagster-home dbt-parse
	@$(UV) run python -m bench.run
