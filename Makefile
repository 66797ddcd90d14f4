# Two entry points, both safe on a fresh clone: `make plan` and `make test`.
# Each creates .venv on first use and reinstalls when pyproject.toml or the pins change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins many packages of its own, so it lives in a virtualenv of its own.
CHECKOV_VENV := .checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
STACK ?= dev-1
# The regulated tier's cell is scanned too, so its HSM resources meet the policies.
REGULATED_STACK ?= prod-2

.DEFAULT_GOAL := plan
.PHONY: plan test setup check lint typecheck unit bench schema lock checkov clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "make: Python 3.11 or newer is required (run with PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

$(CHECKOV_STAMP): checkov-constraints.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c checkov-constraints.txt checkov
	@touch $@

## checkov: install checkov into its own virtualenv
checkov: $(CHECKOV_STAMP)

## setup: both virtualenvs, as CI jobs need them
setup: $(STAMP) $(CHECKOV_STAMP)

## check: validate every tenant file and stack config
check: $(STAMP)
	$(BIN)/tenantctl check

## plan: check every tenant file and stack config, render $(STACK) offline and scan it
plan: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/tenantctl check
	$(BIN)/tenantctl scan --stack $(STACK)
	$(BIN)/tenantctl scan --stack $(REGULATED_STACK)

## test: lint, format check, type check and the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest

bench: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/python bench/cell_size.py
	$(BIN)/python bench/check_files.py
	$(BIN)/python bench/render_floor.py
	$(BIN)/python bench/render_all.py
	$(BIN)/python bench/scan_cell.py
	$(BIN)/python bench/diff_one_tenant.py

## schema: regenerate schemas/tenant.schema.json from the model
schema: $(STAMP)
	$(BIN)/tenantctl schema

## lock: re-pin constraints.txt to what pyproject.toml resolves to today
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^fastmcp-tenancy' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
