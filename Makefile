# Two commands for a fresh machine: `make dev` runs the whole system locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins dozens of libraries of its own: it (and pip-audit) live in a venv of their own.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
# Every install is of the locked versions, each file checked against its hash (`make lock` renews them).
# requirements.lock: what the functions need (and the image of local/docker-compose.yml installs);
# requirements-dev.lock: the same pins and the tests' tools, what .venv installs.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
TOOLS_LOCK := requirements-tools.lock
COMPILE := .venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: dev test lint unit fuzz audit lock bench package tf-fmt tf-validate clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(TOOLS_STAMP): $(TOOLS_LOCK)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes --no-deps -r $(TOOLS_LOCK)
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

# Known vulnerabilities in every locked version (the functions', the tests' and the tools'). It asks a
# vulnerability database over the network (PyPI's JSON API, or AUDIT_SERVICE=osv), so it is not part of
# `make test`; --strict fails it when a package could not be looked up, rather than pass unaudited.
AUDIT_SERVICE ?= pypi
AUDIT := $(TOOLS)/bin/pip-audit --strict --vulnerability-service $(AUDIT_SERVICE) --progress-spinner off \
	--require-hashes --disable-pip
audit: $(TOOLS_STAMP)
	$(AUDIT) -r $(DEV_LOCK)
	$(AUDIT) -r $(TOOLS_LOCK)

# After changing pyproject.toml or requirements-tools.in: resolve again, keeping the pins that still fit
# (`make lock UPGRADE=--upgrade` moves every pin to the newest allowed).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet 'pip-tools==7.7.0'
	CUSTOM_COMPILE_COMMAND="make lock" $(COMPILE) $(UPGRADE) --all-build-deps -o $(LOCK) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(COMPILE) $(UPGRADE) --all-build-deps --extra dev \
		--constraint $(LOCK) -o $(DEV_LOCK) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(COMPILE) $(UPGRADE) -o $(TOOLS_LOCK) requirements-tools.in

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
	rm -rf $(VENV) $(TOOLS) .venv-lock dist .pytest_cache .mypy_cache .ruff_cache
