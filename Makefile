# Two commands for a fresh machine: `make dev` runs the whole system locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins dozens of libraries of its own: it lives in a venv of its own, beside the project's.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV_VERSION := 3.3.30

.PHONY: dev test lint unit fuzz bench package tf-fmt tf-validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(TOOLS_STAMP)

dev: $(STAMP)
	$(BIN)/python -m local.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(TOOLS_STAMP)
	CHECKOV=$(TOOLS)/bin/checkov $(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Far more fuzzed webhook requests than `make test` sends, fresh ones each run (about 20 minutes).
fuzz: $(STAMP)
	FUZZ_EXAMPLES=20000 FUZZ_RANDOM=1 $(BIN)/pytest -q -m fuzz tests/e2e/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python -m local.bench

# One archive per function in dist/: its main.py, the shared/ library and its pinned requirements.
package: $(STAMP)
	$(BIN)/python -m local.package

tf-fmt:
	terraform -chdir=infra/terraform fmt -check -recursive

# Needs the google provider from the Terraform registry (not reachable on the build machines).
tf-validate: package
	terraform -chdir=infra/terraform init -backend=false -input=false
	terraform -chdir=infra/terraform validate

clean:
	rm -rf $(VENV) $(TOOLS) dist .pytest_cache .mypy_cache .ruff_cache
