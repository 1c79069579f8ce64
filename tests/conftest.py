"""Fixtures shared by the tests; the engine helpers live in tests/engines.py, the browser
helpers in tests/browser.py."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import browser as pages
import pytest
from engines import SMALL, missing, require_module
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def spark():
    """A local PySpark session in UTC; skipped where pyspark or Java is missing (failed
    instead under JOURNEY_REQUIRE_ALL=1, see tests/engines.py)."""
    require_module("pyspark", "the PySpark parity tests need the 'scale' extra")
    if shutil.which("java") is None:
        missing("PySpark needs a Java runtime and none is on PATH (make test installs one)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("journey-lab tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        # Tests ask Spark hundreds of queries over a few hundred rows each; generating and
        # compiling Java code for every plan costs more than it saves there. Without it the
        # PySpark tests of six test files, in two groups, took 30% and 44% less time (runs on
        # this machine, 2026-12-07), with the same answers: code generation is how Spark
        # executes a plan, not what the plan computes.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def explored(tmp_path_factory):
    """Two explorations saved with `.to_report_params()`: the primer's trust what-if on
    fewer customers, and a funnel of other steps and window on the bundled sample. The
    widgets, and the settings read back from their files."""
    import matplotlib

    import journey_lib as jl
    from journey_lib import widgets
    from journey_lib.report import read_parameters

    matplotlib.use("Agg")
    folder = tmp_path_factory.mktemp("explored")
    trust = widgets.TrustWhatIf(jl.simulate(1500, seed=7), keeping_promises=0.5)
    events = jl.load_events(ROOT / "data" / "sample" / "events.csv.gz")
    funnel = widgets.FunnelBuilder(
        events, ["site_visit", "signup", "purchase"], window="14D", breakdown="channel"
    )
    files = [w.to_report_params(folder / f"{n}.yaml") for n, w in (("t", trust), ("f", funnel))]
    return trust, funnel, [read_parameters(params_file=path) for path in files]


@pytest.fixture(scope="session")
def report_settings(explored) -> dict:
    """What the sample's report is given: the small settings (``engines.SMALL``), and the
    widgets' saved settings over them (the primer's 1,500 customers among them)."""
    *_, saved = explored
    return SMALL | {name: value for settings in saved for name, value in settings.items()}


@dataclass(frozen=True)
class Ran:
    """A finished run folder and its manifest."""

    folder: Path
    manifest: dict

    @property
    def notebooks(self) -> dict[str, dict]:
        """Each notebook's record in the manifest, by name."""
        return self.manifest["notebooks"]

    @property
    def statuses(self) -> dict[str, str]:
        return {name: record["status"] for name, record in self.notebooks.items()}

    @property
    def parameters(self) -> dict[str, dict]:
        """What each notebook was given, by name."""
        return {name: record["parameters"] for name, record in self.notebooks.items()}


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory, worker_id, report_settings) -> Ran:
    """The packaged suite on the bundled sample (in pandas), as a user runs it after exploring
    with the widgets, with the small settings (``report_settings``): the run
    tests/test_notebooks.py checks figure by figure, whose pages tests/test_report_pages.py
    reads and which tests/test_report_engines.py holds every engine to. It runs once for the
    whole session: the first xdist worker to ask runs it, in the workers' shared folder, and
    the others wait for it and read the same folder."""
    from journey_lib.report import run_report

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    out = shared / "sample-report"
    with FileLock(shared / "sample-report.lock"):
        if not (out / "latest").exists():
            # The engine as "auto" chooses it: pandas, for a log of 2,000 customers.
            result = run_report(parameters=report_settings, out=out, timeout=900)
            assert result.ok, result.summary()
    manifest = json.loads((out / "latest" / "manifest.json").read_text())
    assert manifest["status"] == "ok", f"the sample's report failed: {out / 'latest'}"
    return Ran(out / "latest", manifest)


@pytest.fixture(scope="session")
def browser():
    """The system Chromium, headless, launched once for the session: a ``browser.Chromium``
    (see tests/browser.py); skipped where Playwright or Chromium is missing (failed instead
    under JOURNEY_REQUIRE_ALL=1)."""
    with pages.launched() as chromium:
        yield chromium


@pytest.fixture
def render_page(browser, tmp_path):
    """``render_page(path) -> browser.Rendered``: the local HTML file as Chromium shows it
    (text, broken images, console errors, forbidden requests, a screenshot in tmp_path)."""
    return lambda path: browser.render(path, tmp_path / "browser")


@pytest.fixture
def print_pdf(browser, tmp_path):
    """``print_pdf(path) -> int``: the local HTML file printed to PDF (into tmp_path), its
    number of pages."""
    return lambda path: browser.print_pdf(path, tmp_path / "browser")


# How many tests a marker expression left out. Under pytest-xdist only the workers collect
# (each the whole suite), so each hands its count to the controller, which prints it.
_LEFT_OUT = pytest.StashKey[int]()


def pytest_deselected(items):
    if items:
        stash = items[0].config.stash
        stash[_LEFT_OUT] = stash.get(_LEFT_OUT, 0) + len(items)


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["left_out"] = session.config.stash.get(_LEFT_OUT, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    stash = node.config.stash
    found = getattr(node, "workeroutput", {}).get("left_out", 0)
    stash[_LEFT_OUT] = max(stash.get(_LEFT_OUT, 0), found)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say what a run filtered by marker left out (`make test` leaves out the slow tests),
    so that no check goes missing silently."""
    expression = config.getoption("markexpr") or ""
    left_out = config.stash.get(_LEFT_OUT, 0)
    if "not slow" in expression and left_out:
        terminalreporter.write_line(
            f"{left_out} tests marked slow were left out of this run (a gigabyte CSV, "
            f"false-alarm rates over simulated years, the large churn settings, a summary "
            f"of a million events, Polars' whole report, DuckDB's segmented pages, Spark's "
            f"02, 03 and 05, the awkward logs' unchecked pages, two more customer tables): "
            f"`make test-all` runs every test"
        )
