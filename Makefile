# Two commands: `make run` sets up and starts Hearth; `make test` runs every test.
# Everything lives in .venv/ and frontend/node_modules/; re-running only redoes what changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_MODULES := frontend/node_modules/.installed
SPA := frontend/dist/index.html
SPA_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/tsconfig*.json -type f 2>/dev/null)

.PHONY: run test install spa openapi lint demo clean

# Options of `hearth serve` go in ARGS: make run ARGS="--port 8080"
run: install spa
	$(BIN)/hearth serve $(ARGS)

test: install spa
	$(BIN)/pytest

install: $(INSTALLED)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Hearth needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

$(NODE_MODULES): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

spa: $(SPA)

$(SPA): $(NODE_MODULES) $(SPA_SOURCES) openapi.json
	cd frontend && npm run build

# Regenerate the contract and the SPA's typed client after any API change; commit both.
openapi: install $(NODE_MODULES)
	$(BIN)/hearth openapi > openapi.json
	cd frontend && npm run gen:api

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: install
	$(BIN)/hearth demo

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
