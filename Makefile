# Two commands matter: `make run` and `make test`. Both build .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .demo

.PHONY: install run test lint typecheck unit bench mutation clean system-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# The [torch] extra asks for torch>=2.13, which on PyPI is the multi-GB CUDA build: take the CPU
	@# build first (this machine's wheel dir has torch 2.13.0+cpu), then .[dev] finds torch satisfied.
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# System packages the tests use for real (PostgreSQL); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(BIN)/python scripts/demo.py --dir $(DEMO) --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: install
	$(BIN)/mypy

unit: install system-deps
	$(BIN)/pytest

test: install system-deps lint typecheck unit

bench: install system-deps
	$(BIN)/python benchmarks/ledger.py

# Mutation testing of the core (docs/testing.md); not part of `make test`: it takes tens of minutes.
# mutmut is installed on demand (it brings a terminal UI and libcst, which `make test` never needs).
# A fresh run each time: cached verdicts could outlive the tests that earned them.
mutation: install
	@$(BIN)/python -c 'import mutmut' 2>/dev/null || $(BIN)/python -m pip install --quiet 'mutmut>=3.8'
	rm -rf mutants
	nice -n 10 $(BIN)/mutmut run > mutation-run.log 2>&1 || (tail -c 2000 mutation-run.log; exit 1)
	$(BIN)/python scripts/mutation_report.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache mutants mutation-run.log
