# Everyday commands. `make run` and `make test` are README's Quickstart.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install install-dev browser lint format check pytest demo-reset clean
.PHONY: fuzz

## run: the app with demo data (web + worker + beat) on an embedded PostgreSQL in .demo/
## (or DATABASE_URL) and a filesystem broker (or REDIS_URL); Ctrl-C stops it all
run: install
	$(PY) scripts/run.py

## test: install what the suite needs, then every check against PostgreSQL and Redis
test: install-dev browser
	$(PY) scripts/test.py

$(VENV)/bin/python:
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(VENV)/bin/python
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt

install-dev: $(VENV)/bin/python
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt

## browser: Debian's chromium for the Playwright tests (never Playwright's own
## download) and docker-compose to validate docker-compose.yml (no engine needed)
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Install$$missing (Debian: sudo apt-get install$$missing) for the test suite." >&2; exit 1; fi; \
	fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

pytest: install-dev
	$(VENV)/bin/pytest $(ARGS)

## fuzz: the schemathesis run of the test command, longer and with fresh random examples
## (FUZZ_EXAMPLES per operation, FUZZ_SEED to replay a run; the seed used is printed)
FUZZ_EXAMPLES ?= 500
fuzz: install-dev
	@seed=$${FUZZ_SEED:-$$RANDOM$$RANDOM}; echo "FUZZ_SEED=$$seed FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)"; \
	FUZZ_SEED=$$seed FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q tests/ops/test_schema_fuzz.py $(ARGS)

## demo-reset: forget the demo's data (the embedded database and broker folder)
demo-reset:
	rm -rf .demo

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
