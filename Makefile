# `make demo` and `make test` set themselves up: the venv and the install happen on first use
# and are skipped afterwards (the stamp file is newer than pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-team test lint typecheck unit screenshots bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fansly-console demo

# Team mode end to end (needs PostgreSQL 15's binaries: apt-get install -y postgresql-15).
demo-team: $(STAMP)
	$(BIN)/fansly-console team demo

lint: $(STAMP)
	$(BIN)/ruff check console tests bench
	$(BIN)/ruff format --check console tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy console

# First stop any throwaway PostgreSQL cluster left by a killed run (console/team/cluster.py).
unit: $(STAMP)
	$(BIN)/python -m console.team.cluster_watch --sweep
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

test: lint typecheck unit

screenshots: $(STAMP)
	$(BIN)/python -m console.tui.screenshots

bench: $(STAMP)
	$(BIN)/python bench/client.py
	$(BIN)/python bench/store.py --messages 200000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
