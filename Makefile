# The two commands: `make report` and `make test`. Each creates .venv on first use, with uv
# (from PyPI): the same versions pip picks, in 2 minutes where pip took 6.5 on a fresh
# machine; pip installs them where uv cannot (an index only pip is configured for, say).
# The installed modules and journey_lib's own are compiled to bytecode as they are installed
# (pip does so by default, uv when asked): where PYTHONDONTWRITEBYTECODE is set, as on this
# project's machines, Python never writes what it compiles, so without them every process
# (each notebook's kernel, each `journey` command) compiled every module it imports again:
# `import journey_lib` took 5.6 to 6.9 s of CPU against 1.9 to 2.3 s with them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: report test test-all system lint bench data lab clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "journey-lab needs Python 3.11 or newer: make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python \
	  -e '.[dev,scale,database]' || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,scale,database]'
	$(BIN)/python -m compileall -q journey_lib
	touch $@

report: $(STAMP)
	$(BIN)/journey report

# One pytest worker per core, a test file to a worker (its module fixtures built once, in
# xdist's default order, the files with most tests first: the longest files first ran the
# whole-report tests side by side, 2,561 s against 2,078 s on the 2-core machine), and one
# OpenMP thread a worker: two workers' model fits each spinning two threads on two cores
# run many times slower. The 25 slowest tests are listed at the end, to keep CI's time in view.
# `make test` (what CI runs) leaves out the tests marked slow (repeats of a whole report on
# more inputs of a kind CI already runs, large data, long simulations) and says so at its
# end; `make test-all` runs them too.
PYTEST := OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/python -m pytest -n auto --dist loadfile --durations=25

test:
	@$(MAKE) --no-print-directory -j2 lint system
	$(PYTEST) -m "not slow"

test-all:
	@$(MAKE) --no-print-directory -j2 lint system
	$(PYTEST)

# The system packages the tests drive: a Java runtime for PySpark's parity tests; Debian's
# Chromium with a font (so that text renders) for the browser tests, which drive it through
# Playwright (tests/browser.py; Playwright's own browser download is not used); and Debian's
# PostgreSQL server, whose initdb and pg_ctl the database tests make and start a throw-away
# cluster with (tests/postgres.py; the package's own cluster, if its install starts one, is
# not used). What is missing is installed in one apt-get call where that can be done without a
# prompt (as root, or with password-less sudo), while the virtual environment is made beside
# it (`-j2` above; on a fresh machine uv's install takes about 2 minutes, and reinstalling
# these packages took 28 s here, more with their dependencies on a machine without them);
# elsewhere make says so and goes on, and those tests skip, or fail under
# JOURNEY_REQUIRE_ALL=1, as in CI. The 'dev' extra brings lifetimes' CDNOW data.
system:
	@need=""; \
	command -v java >/dev/null 2>&1 || need="$$need default-jre-headless"; \
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || \
	  need="$$need chromium fonts-dejavu-core"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  need="$$need postgresql"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else sudo=none; fi; \
	if [ "$$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make: cannot install$$need here without a prompt (no apt-get, or neither root nor"; \
	  echo "  password-less sudo); the PySpark tests need Java, the browser tests chromium and"; \
	  echo "  the database tests postgresql:"; \
	  echo "  they will skip, or fail under JOURNEY_REQUIRE_ALL=1"; \
	  exit 0; \
	fi; \
	echo "make: installing$$need for the PySpark, browser and database tests"; \
	if ! { $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	       $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	         --no-install-recommends $$need >/dev/null; }; then \
	  echo "make: apt-get could not install$$need; the tests that need them will skip or fail"; \
	fi

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
	$(BIN)/python benchmarks/summary.py
	$(BIN)/python benchmarks/flows.py
	$(BIN)/python benchmarks/segments.py
	$(BIN)/python benchmarks/survival.py
	$(BIN)/python benchmarks/uplift.py
	$(BIN)/python benchmarks/campaigns.py

data: $(STAMP)
	$(BIN)/journey simulate --customers 2000 --seed 0 --out data/sample/events.csv.gz --customers-out data/sample/customers.csv

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
