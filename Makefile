# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app
# Set-up and the demo print what a person needs (warnings and errors, the accounts, the URL);
# `LOG_LEVEL=INFO make run` shows every migration step and job as well.
SETUP_LOG_LEVEL := $(or $(LOG_LEVEL),WARNING)

.PHONY: run test fuzz install install-dev migrate seed bench clean

$(BIN)/python:
	@echo "Installing into $(VENV) (the first time takes a few minutes) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	@$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	@echo "Migrating the database ..."
	@LOG_LEVEL=$(SETUP_LOG_LEVEL) $(BIN)/registry db upgrade

seed: migrate
	@LOG_LEVEL=$(SETUP_LOG_LEVEL) $(BIN)/registry seed --demo

## Install, migrate the SQLite database, load reference and demo data, serve on 127.0.0.1:$(PORT).
## The job worker (big imports, clean-up) runs beside the server and stops with it.
run: seed
	@mkdir -p instance
	@LOG_LEVEL=$(SETUP_LOG_LEVEL) $(BIN)/registry worker >instance/worker.log 2>&1 & worker=$$!; \
	LOG_LEVEL=$(SETUP_LOG_LEVEL) $(BIN)/registry run --host 127.0.0.1 --port $(PORT) >instance/server.log 2>&1 & server=$$!; \
	trap 'kill $$worker $$server 2>/dev/null' EXIT INT TERM; \
	for _ in $$(seq 150); do \
	  $(BIN)/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
	    http://127.0.0.1:$(PORT)/healthz 2>/dev/null && break; \
	  kill -0 $$server 2>/dev/null || { cat instance/server.log; exit 1; }; sleep 0.2; \
	done; \
	echo; echo "The registry: http://127.0.0.1:$(PORT)  (sign in with a demo account above; Ctrl-C stops it)"; \
	echo "Logs: instance/server.log, instance/worker.log"; \
	wait $$server

## Install the dev dependencies and run the whole suite (PostgreSQL too when TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Fuzz the whole API against its OpenAPI document with many more examples than the suite's smoke run.
fuzz: install-dev
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} $(BIN)/python -m pytest tests/api/test_fuzz.py $(PYTEST_ARGS)

## Time the coverage service (100,000 standards on SQLite); BENCH_ARGS="--sizes 1000000 --database-url ..." for more.
bench: install-dev
	$(BIN)/python -m bench.coverage $(BENCH_ARGS)

## Excel import/export benchmark (BENCH_ARGS="--rows 100000 --database-url postgresql+psycopg://...").
.PHONY: bench-imports
bench-imports: install-dev
	$(BIN)/python -m bench.imports $(BENCH_ARGS)

## Dashboard and coverage API with and without the report cache (BENCH_ARGS="--database-url ... --runs 15").
.PHONY: bench-dashboard
bench-dashboard: install-dev
	$(BIN)/python -m bench.dashboard $(BENCH_ARGS)

## The app under gunicorn, 8 clients per endpoint (BENCH_ARGS="--database-url postgresql+psycopg://.../registry_bench").
.PHONY: bench-load
bench-load: install-dev
	$(BIN)/python -m bench.load $(BENCH_ARGS)

## Every bench/*.py at a tiny size (--smoke, seconds), on SQLite or on BENCH_DATABASE_URL (PostgreSQL, a
## database whose name contains "bench": its public schema is rebuilt). CI runs it so a broken benchmark fails.
.PHONY: bench-smoke
bench-smoke: install-dev
	@set -e; for script in bench/*.py; do \
	  module=$$(basename $$script .py); [ "$$module" = __init__ ] && continue; \
	  echo "== python -m bench.$$module --smoke $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))"; \
	  $(BIN)/python -m bench.$$module --smoke $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)); \
	done

clean:
	rm -rf $(VENV) instance/registry.db*
