# The two commands: `make report` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: report test lint bench data lab clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "journey-lab needs Python 3.11 or newer: make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,scale]'
	touch $@

report: $(STAMP)
	$(BIN)/journey report

test: $(STAMP)
	$(BIN)/ruff check journey_lib tests benchmarks
	$(BIN)/ruff format --check journey_lib tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check journey_lib tests benchmarks
	$(BIN)/ruff format --check journey_lib tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/widgets.py
	$(BIN)/python benchmarks/attribution.py
	$(BIN)/python benchmarks/clv.py
	$(BIN)/python benchmarks/churn.py
	$(BIN)/python benchmarks/excel.py
	$(BIN)/python benchmarks/profile.py

data: $(STAMP)
	$(BIN)/journey simulate --customers 2000 --seed 0 --out data/sample/events.csv.gz --customers-out data/sample/customers.csv

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
