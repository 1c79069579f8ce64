"""Fixtures shared by the tests; the engine helpers live in tests/engines.py, the browser
helpers in tests/browser.py."""

import shutil

import browser as pages
import pytest
from engines import missing, require_module


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
        .getOrCreate()
    )
    yield session
    session.stop()


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
            f"of a million events): `make test-all` runs every test"
        )
