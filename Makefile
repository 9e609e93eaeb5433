# chartkeeper - the two commands a newcomer needs:
#
#   make demo    run a demo hospital on http://127.0.0.1:8000
#   make test    everything CI checks (.ci/run calls exactly this)
#
# Run `make help` for the rest. Everything lives in ./.venv; nothing is installed system-wide
# except, for `make test`, the PostgreSQL and Chromium packages (see scripts/test-services.sh).

# bash with -e and pipefail so a failing command inside a recipe line fails the target.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamps record "installed from this pyproject.toml": pip only runs again when it changes.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

PATIENTS ?= 100
SEED ?= 1

# What the tests use; scripts/test-services.sh provides both.
CHARTKEEPER_TEST_POSTGRES_URL ?= postgresql+psycopg://chartkeeper:chartkeeper@127.0.0.1:55432/chartkeeper_test
CHARTKEEPER_TEST_CHROMIUM ?= /usr/bin/chromium
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-k search -x'
PYTEST_ARGS ?=
# Two workers, one file per worker at a time (module fixtures such as the Synthea load stay on
# one worker); PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2

# Only lint folders that exist: git does not keep empty ones, and ruff fails on a missing path.
LINT_PATHS := $(wildcard src tests bench scripts)
# -qq: errors only. (-q would still print a warning per package for this machine's pip config.)
PIP := $(BIN)/python -m pip install -qq --disable-pip-version-check

.PHONY: help demo test bench clean

help: ## show this help
	@echo "chartkeeper make targets:"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'
	@echo "variables: PATIENTS=$(PATIENTS) SEED=$(SEED) PYTEST_ARGS='$(PYTEST_ARGS)'"

demo: $(STAMP) ## create .venv, build the demo hospital (PATIENTS=100 SEED=1) and serve it on :8000
	$(BIN)/chartkeeper demo --patients $(PATIENTS) --seed $(SEED)
	$(BIN)/chartkeeper serve

test: $(TEST_STAMP) ## install test deps, start PostgreSQL/Chromium, run all gates and pytest
	scripts/test-services.sh
	@# Run every gate even when an earlier one fails, so one CI run reports all problems;
	@# pytest runs last so its summary is the closing output, and any failure fails `make`.
	@# pytest's exit code 5 (no tests collected) is non-zero, so it fails here as well.
	@failed=""; \
	run() { echo "==> $$*"; "$$@" || failed="$$failed  $$*"$$'\n'; }; \
	run $(BIN)/ruff format --check $(LINT_PATHS); \
	run $(BIN)/ruff check $(LINT_PATHS); \
	run $(BIN)/mypy; \
	run $(BIN)/lint-imports; \
	echo "==> pytest $(PYTEST_ARGS)"; \
	CHARTKEEPER_TEST_POSTGRES_URL='$(CHARTKEEPER_TEST_POSTGRES_URL)' \
	CHARTKEEPER_TEST_CHROMIUM='$(CHARTKEEPER_TEST_CHROMIUM)' \
		$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS) \
		|| failed="$$failed  pytest (exit $$?)"$$'\n'; \
	if [ -n "$$failed" ]; then printf 'make test FAILED:\n%s' "$$failed" >&2; exit 1; fi

bench: $(TEST_STAMP) ## run the benchmarks (bench/run.py)
	$(PIP) -e '.[bench]'  # the baselines the benchmarks compare against (recordlinkage)
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; \
	else echo "bench/run.py does not exist yet"; fi

clean: ## remove .venv, caches and build/test artifacts (keeps ./var, which may hold real data)
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis \
		.import_linter_cache src/*.egg-info
	find . -path ./var -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	find tests/e2e/artifacts -type f ! -name .gitignore -delete 2>/dev/null || true

# --- internal ---------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

# The test install is a superset, so it also satisfies the plain one.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@ $(STAMP)
