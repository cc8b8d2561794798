# Two commands matter: `make run` and `make test`. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
# Zapier's own runtime (npm), kept in an ignored folder and reinstalled only when the lock changes.
NPM_DIR := tests/zapier
NPM_STAMP := $(NPM_DIR)/node_modules/.installed

.PHONY: run test worker docs clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME_STAMP)

$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: start the service with embedded defaults (SQLite, in-process worker, sandbox without HALO_API_KEY)
run: $(RUNTIME_STAMP)
	$(PY) app.py

## worker: run a delivery worker process (production: WORKER_MODE=external)
worker: $(RUNTIME_STAMP)
	$(VENV)/bin/flask --app app worker

## test: install what the tests need and run the whole suite twice: embedded (SQLite, SqliteHuey)
## and production (PostgreSQL and Redis at 127.0.0.1)
test: $(DEV_STAMP) $(NPM_STAMP)
	$(PY) -m pytest -n 2
	TEST_BACKEND=production $(PY) -m pytest -n 2

## docs: regenerate .env.example and the generated README sections from the code
docs: $(DEV_STAMP)
	$(VENV)/bin/flask --app app config example --write
	$(VENV)/bin/flask --app app config docs --write
	$(VENV)/bin/flask --app app manifest reference --write

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
