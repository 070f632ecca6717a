# Two commands a newcomer needs: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# the package is byte-compiled after an editable install, as pip does for a regular one: with
# PYTHONDONTWRITEBYTECODE set, every process would otherwise compile it from source again
COMPILE := $(BIN)/python -m compileall -q ntm_analysis

.PHONY: demo test lab ingest install install-dev lint typecheck bench bench-quick sample-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	$(COMPILE)
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[dev]'
	$(COMPILE)
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: ingest the bundled sample workbooks and build the readiness report
demo: $(VENV)/.installed
	$(BIN)/ntm demo

## test: run the whole test suite (pytest's "no tests" exit code 5 counts as success)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

## lab: open the notebooks in JupyterLab (installs the [lab] extra)
lab: $(VENV)/.installed
	$(PIP) install -e '.[lab]'
	$(BIN)/jupyter lab notebooks/

ingest: $(VENV)/.installed
	$(BIN)/ntm ingest data/raw

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check ntm_analysis tests notebooks benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

sample-data: $(VENV)/.installed
	$(BIN)/python scripts/make_sample_data.py data/raw

clean:
	rm -rf data/processed/* outputs/*
	@touch data/processed/.gitkeep outputs/.gitkeep

## bench: the benchmark suite at full size (200 communes; several minutes on 2 cores)
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

## bench-quick: the benchmark suite at reduced size (under 2 minutes on 2 cores)
bench-quick: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py --quick
