# Two commands on a bare machine with Python 3.11+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the feed needs only the runtime install; tests and checks need the dev extra
# (pytest, mypy, Ray, pyarrow: most of the download), so `make run` never waits for it.
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
# Whole files per worker: a module's fixtures (some build minutes of simulation) are built once.
XDIST := -n auto --dist loadfile
FAST := -m "not slow and not tmux"

.PHONY: run test fast lint typecheck contracts pytest bench clean

$(RUNTIME): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV)

run: $(RUNTIME)
	$(BIN)/foryou

# Everything, as CI runs it.
test: $(DEV) lint typecheck contracts pytest

# The inner loop: lint and the tests that are neither slow nor in a real terminal, in parallel.
fast: $(DEV) lint
	$(BIN)/pytest $(XDIST) $(FAST)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV)
	$(BIN)/mypy

contracts: $(DEV)
	$(BIN)/lint-imports

pytest: $(DEV)
	$(BIN)/pytest $(XDIST)

bench: $(RUNTIME)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
