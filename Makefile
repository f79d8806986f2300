# billops — `make run` (set up, generate, run the DAGs through Airflow, serve) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= small
SEED ?= 42
# The first month generated: extracts must not be dated after the run's clock (docs/security.md),
# so the demo's three months end before today.
START ?= 2026-09
PORT ?= 8501
TEST_WORKERS ?= 4

export BILLOPS_HOME ?= $(CURDIR)/data
export AIRFLOW_HOME ?= $(CURDIR)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS := True
# Servers listen on loopback unless configured otherwise (the dashboard, its Data Docs, Airflow's
# api-server under `make airflow`); BILLOPS_BIND_ADDRESS=0.0.0.0 exposes them to the network.
export BILLOPS_BIND_ADDRESS ?= 127.0.0.1
export AIRFLOW__API__HOST ?= $(BILLOPS_BIND_ADDRESS)
export DO_NOT_TRACK := 1
export SCARF_ANALYTICS := false
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# Airflow standalone and Cosmos start `airflow`/`dbt` by name: the venv's bin comes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup test-debs run test lint bench airflow dashboard clean manifest airflow-db

help:
	@echo "make run        set up, generate a $(SCALE) health system, run the nightly and month-end DAGs, serve the dashboard"
	@echo "make test       set up and run the tests"
	@echo "make lint       ruff, and lint-imports (layers only point down: docs/architecture.md)"
	@echo "make bench      benchmarks (results in bench/results/)"
	@echo "make airflow    Airflow standalone UI on http://127.0.0.1:8080 with the project's DAGs"
	@echo "make dashboard  Streamlit on http://127.0.0.1:$(PORT) (serving snapshot, behind a sign-in)"
	@echo "make clean      remove data, Airflow home, dbt target and caches (keeps .venv)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The venv is rebuilt whenever the lock changes; `uv sync --frozen` never re-resolves. Bytecode is
# compiled once at sync, so no process (each dbt run imports ~4 s of modules) compiles its imports.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(shell command -v $(PYTHON))
	@touch $@

setup: $(VENV)/.synced

# Debian packages the tests need: chromium for the browser test (the system browser; nothing is
# downloaded at run time) and postgresql for the operational store's PostgreSQL test.
test-debs:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian postgresql (the operational store is tested on PostgreSQL too)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

manifest: setup
	$(BIN)/python -c "from billops.transform import parse_manifest; parse_manifest()"

airflow-db: setup
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate >/dev/null
	$(BIN)/python -c "from billops.orchestration import ensure_pool; ensure_pool()"

run: setup manifest airflow-db
	$(BIN)/billops generate --scale $(SCALE) --seed $(SEED) --start $(START)
	BILLOPS_TASK_RETRIES=0 $(BIN)/airflow dags test billing_nightly
	BILLOPS_TASK_RETRIES=0 $(BIN)/airflow dags test billing_month_end
	@echo
	@if [ "$$($(BIN)/billops users list --json)" = "[]" ]; then \
		echo "Sign in to the dashboard and its Data Docs as user 'admin' with this token (shown once; keep it):"; \
		$(BIN)/billops users add admin --role admin; \
	else \
		echo "Sign in with your billops user name and token (billops users add NAME --role ROLE creates one)."; \
	fi
	$(BIN)/billops dashboard --port $(PORT)

# One test file per worker process (module fixtures stay shared); the suite is CPU-bound.
test: setup test-debs manifest
	$(BIN)/pytest -q -p no:cacheprovider -n auto --maxprocesses $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: setup manifest
	$(BIN)/python -m bench

airflow: setup manifest airflow-db
	@echo "Airflow UI: http://127.0.0.1:8080 (DAGs billing_nightly, billing_month_end; listening on $(AIRFLOW__API__HOST))"
	$(BIN)/airflow standalone

dashboard: setup
	$(BIN)/billops dashboard --port $(PORT)

clean:
	rm -rf data airflow_home dbt_project/target dbt_project/logs logs .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path "./.venv/*" -prune -exec rm -rf {} +
