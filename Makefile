# C360 Steward: `make run` serves the demo, `make test` runs the suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test test-postgres lint typecheck lock migrate demo worker bench bench-smoke bench-matching bench-venv clean fuzz-api

setup: $(STAMP)

# Both locks: requirements.lock (runtime, all that production installs: see Dockerfile) and
# requirements-dev.lock (the same pins plus tests, lint and types). Given together, pip refuses
# them if they ever pin a package differently. Reinstalls only when a lock file or pyproject
# changed; otherwise this is instant.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies from requirements.lock and requirements-dev.lock into $(VENV) …"
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
	  -r requirements.lock -r requirements-dev.lock
	@touch $(STAMP)

migrate: setup
	@$(PY) manage.py migrate --noinput

demo: migrate
	@$(PY) manage.py seed_demo --parties $${C360_DEMO_PARTIES:-1500} --sources 4 --seed 42 --if-empty --truth var/demo-truth.csv
	@$(PY) manage.py demo_users
	@$(PY) manage.py demo_consents --if-empty
	@$(PY) manage.py demo_matcher --truth var/demo-truth.csv --if-untrained

# The web server and a Celery worker with an embedded beat (the dashboard's periodic refresh)
# together; Ctrl-C (or either one exiting) stops both. The dashboard's figures are computed
# first unless they are recent. Production runs one `celery -A c360 beat` instead of -B.
run: demo
	@$(PY) manage.py dashboard_refresh --if-older-than 600
	@echo "Serving C360 Steward on http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the worker)"
	@$(PY) -m celery -A c360 worker -B --schedule var/celerybeat-schedule --loglevel=INFO --concurrency=2 & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

worker: setup
	@$(PY) -m celery -A c360 worker --loglevel=INFO

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

# Schemathesis against the API's schema (CI runs it; takes a few minutes).
fuzz-api: setup
	@bash .ci/api_fuzz

TEMPLATES = $(wildcard templates */templates */*/templates)

# ruff (check + format), the templates (djLint's checks and 200 columns, djhtml's indentation),
# the app boundaries (import-linter contracts in pyproject.toml), missing migrations.
lint: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check . >/dev/null || { $(PY) -m ruff format --check . | grep -v '^[0-9]'; echo 'Not formatted: run .venv/bin/ruff format .'; exit 1; }
	@$(VENV)/bin/djlint $(TEMPLATES) --lint --quiet || { echo 'Templates: fix the lines above ([tool.djlint] in pyproject.toml; C001, over 200 columns: put attributes or tags on lines of their own, never split {% %} or {{ }}, and break only where whitespace is not rendered)'; exit 1; }
	@$(VENV)/bin/djhtml --check $(TEMPLATES) 2>/dev/null || { $(VENV)/bin/djhtml --check $(TEMPLATES) 2>&1 | grep '^would'; echo 'Templates not indented: run .venv/bin/djhtml $(TEMPLATES)'; exit 1; }
	@out="$$($(VENV)/bin/lint-imports --no-cache 2>&1)" || { echo "$$out"; echo "An import crosses an app boundary: see DESIGN.md, layers"; exit 1; }
	@$(PY) manage.py makemigrations --check --dry-run >/dev/null || \
	  (echo "Migrations are missing: run manage.py makemigrations" && exit 1)
	@$(PY) -m mypy

# mypy (django-stubs, DRF stubs) over services and selectors ([tool.mypy] in pyproject.toml):
# the last step of lint, alone here.
typecheck: setup
	@$(PY) -m mypy

# Re-pin after changing pyproject.toml: requirements.lock from [project] dependencies (runtime),
# then requirements-dev.lock from them and the dev extra, constrained to requirements.lock so
# that a package both hold is pinned alike. Existing pins are kept.
lock: setup
	@$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	@$(VENV)/bin/pip-compile --quiet --extra dev --constraint requirements.lock --generate-hashes \
	  --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements-dev.lock pyproject.toml

bench: setup
	@$(PY) bench/seed_demo_bench.py

# Import smoke runs (issue 22): 10,000 rows on SQLite and on PostgreSQL, each failing when its
# rows/s fell by more than a third below the figure recorded for this machine in
# bench/figures.json (record a new one with bench/import_bench.py --record). CI runs it.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/c360_benchsmoke
bench-smoke: setup
	@env -u DATABASE_URL $(PY) bench/import_bench.py --rows 10000 --compare
	@createdb -h 127.0.0.1 -U postgres c360_benchsmoke 2>/dev/null || true
	@DATABASE_URL=$(BENCH_PG) $(PY) bench/import_bench.py --rows 10000 --compare

# Matching quality (issue 17): FEBRL1, FEBRL4 and seed_demo, 10/25/50/100 labels, random and
# steward labels, worst and mean of 3 runs, Splink 5 beside it (bench-only venv .venv-bench);
# figures in var/bench/matching_quality.json. Leaves the last seed_demo model in
# var/bench-quality.sqlite3 for bench/matching_speed.py (PostgreSQL + Redis, see its docstring).
bench-matching: setup bench-venv
	@nice $(PY) bench/matching_quality.py --datasets febrl1,febrl4,seed_demo --labels 10,25,50,100 \
	  --paths random,steward --runs 3

bench-venv: .venv-bench/.installed
.venv-bench/.installed: bench/requirements-splink.txt
	@test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	@.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-splink.txt
	@touch $@

clean:
	rm -rf var/ .pytest_cache .ruff_cache
