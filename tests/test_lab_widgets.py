"""The widgets in JupyterLab, in a real browser (issue 21): each notebook with a widget is
opened in headless Chromium and run from the Run menu, and each widget is changed the way
a person changes it (dragging a slider, typing into a box, picking from a drop-down).

The test holds three things to each other after every change: what the control now says,
what the very kernel behind the page holds (the widget's settings and ``.data``, which must
be what its settings compute afresh), and what the page shows (the figure, compared by the
SHA-256 of its PNG, and the numbers written under it). Also: no page logs a JavaScript
error, a widget renders and responds again after the kernel is restarted, and the static
HTML export (``jupyter nbconvert --to html``, JupyterLab's File > Save and Export As) shows
each widget's picture.

The notebooks run on the bundled sample with the small settings of ``engines.SMALL``,
injected into copies of the suite as papermill injects parameters; JupyterLab and its
kernels run from a temporary folder (tests/lab.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass

import lab
import papermill
import pytest
from engines import SMALL, declared_settings

from journey_lib.report import copy_suite

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Case:
    """A widget of a notebook: the variable holding it, the label of the control changed,
    how a person changes it, and the setting that must follow."""

    notebook: str
    variable: str
    label: str
    action: str
    setting: str
    typed: str = ""


CASES = {
    "trust what-if": Case(
        "00_customer_journey_primer", "whatif", "keeping promises", "drag", "trust"
    ),
    "customer timeline": Case("01_touchpoints", "explorer", "customer", "type", "customer"),
    "funnel builder": Case("02_funnels", "builder", "window", "type", "window", "7D"),
    "cohort explorer": Case("03_retention", "explorer", "period", "pick", "period"),
    "targeting what-if": Case("04_churn_model", "whatif", "save rate", "drag", "save_rate"),
    # The campaign's targeting, by uplift: its save rate is fixed, its offer's cost is typed.
    "campaign targeting": Case("08_campaigns", "whatif", "offer cost", "type", "offer_cost", "7.5"),
}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """A copy of the suite whose notebooks carry the small settings."""
    folder = tmp_path_factory.mktemp("lab") / "suite"
    copy_suite(folder)
    for case in {case.notebook: case for case in CASES.values()}.values():
        path = folder / "notebooks" / f"{case.notebook}.ipynb"
        settings = declared_settings(SMALL, [case.notebook[:2]])
        papermill.execute_notebook(
            str(path), str(path), parameters=settings, prepare_only=True, progress_bar=False
        )
    return folder


@pytest.fixture(scope="module")
def jupyter(suite):
    with lab.lab_server(suite) as server:
        yield server


@pytest.fixture(scope="module")
def tabs(jupyter, browser):
    """The notebooks opened so far (by :func:`_open`): Tabs by notebook, and the first
    state each case's widget held in its kernel, by case."""
    opened, firsts = {}, {}
    yield opened, firsts
    for tab in opened.values():
        browser.call(lab.close, tab)


def _open(name: str, jupyter, browser, tabs) -> tuple[lab.Tab, lab.Kernel]:
    """The notebook of the case ``name`` open in the browser (opened, run and saved on first
    use), and a client of its kernel."""
    case, (opened, firsts) = CASES[name], tabs
    path = f"notebooks/{case.notebook}.ipynb"
    if case.notebook not in opened:
        tab = browser.call(lab.open_notebook, jupyter.url(path), wait_s=lab.RUN_MS / 1000 + 60)
        browser.call(lab.save, tab)
        opened[case.notebook] = tab
    kernel = jupyter.kernel(path)
    if name not in firsts:
        firsts[name] = kernel.state(case.variable)
    return opened[case.notebook], kernel


def _same(shown: dict, held: dict) -> None:
    """The page shows the kernel's figure and numbers."""
    assert held["error"] is None and held["fresh"], held
    assert shown["png"] == held["png"] is not None
    assert shown["text"] == held["caption"].strip()


def _act(browser, tab, kernel, case: Case) -> str:
    """Change the control as a person would; what the control now holds, as text."""
    if case.action == "drag":
        return browser.call(lab.drag, tab, case.label, 90)
    if case.action == "pick":
        browser.call(lab.pick, tab, case.label, "week")
        return "week"
    if case.setting == "customer":
        # Another customer the box offers.
        other = kernel.run(
            f"print([o for o in {case.variable}.controls['customer'].options "
            f"if o != {case.variable}.controls['customer'].value][3])"
        ).strip()
        browser.call(lab.type_into, tab, case.label, other)
        return other
    browser.call(lab.type_into, tab, case.label, case.typed)
    return case.typed


@pytest.mark.parametrize("name", list(CASES))
def test_a_widget_follows_a_persons_change(name, jupyter, browser, tabs):
    case = CASES[name]
    tab, kernel = _open(name, jupyter, browser, tabs)
    try:
        before = kernel.state(case.variable)
        _same(browser.call(lab.shown, tab, case.label), before)
        said = _act(browser, tab, kernel, case)
        browser.call(lab.wait_for_change, tab, case.label, before["png"])
        after = kernel.state(case.variable)
    finally:
        kernel.close()
    # The kernel got the change the control shows, and computed its data for it...
    setting = after["params"][case.setting]
    if case.setting == "trust":
        assert setting == {"keeping_promises": float(said)} != before["params"]["trust"]
    elif case.setting in ("save_rate", "offer_cost"):
        assert setting == float(said) != before["params"][case.setting]
    else:
        assert setting == said != before["params"][case.setting]
    others = {k: v for k, v in after["params"].items() if k != case.setting}
    assert others == {k: v for k, v in before["params"].items() if k != case.setting}
    # ...and the page shows its figure and numbers: new ones.
    _same(browser.call(lab.shown, tab, case.label), after)
    assert after["png"] != before["png"]


def test_no_page_logged_a_javascript_error(jupyter, browser, tabs):
    for name in CASES:
        _open(name, jupyter, browser, tabs)[1].close()
    for tab in tabs[0].values():
        browser.call(lab.settle, tab)  # the page's events are delivered while it waits
    assert {name: tab.errors for name, tab in tabs[0].items() if tab.errors} == {}


def test_a_widget_renders_and_responds_after_a_kernel_restart(jupyter, browser, tabs):
    case = CASES["funnel builder"]
    tab, kernel = _open("funnel builder", jupyter, browser, tabs)
    kernel.close()
    browser.call(lab.run_all, tab, "notebook:restart-run-all", wait_s=lab.RUN_MS / 1000 + 60)
    kernel = jupyter.kernel(f"notebooks/{case.notebook}.ipynb")
    try:
        fresh = kernel.state(case.variable)
        assert fresh["params"]["window"] == "30D"  # the notebook's own, not the last typed
        _same(browser.call(lab.shown, tab, case.label), fresh)
        browser.call(lab.type_into, tab, case.label, "14D")
        browser.call(lab.wait_for_change, tab, case.label, fresh["png"])
        changed = kernel.state(case.variable)
    finally:
        kernel.close()
    assert changed["params"]["window"] == "14D"
    _same(browser.call(lab.shown, tab, case.label), changed)
    assert tab.errors == []


def test_the_static_export_shows_each_widgets_picture(jupyter, browser, tabs, suite, tmp_path):
    pictures = {}
    for name, case in CASES.items():
        _open(name, jupyter, browser, tabs)[1].close()
        saved = suite / "notebooks" / f"{case.notebook}.ipynb"
        # Saved with the widget's output: its figure when first shown, as its kernel drew it.
        pictures[name] = _saved_picture(saved, case)
        assert pictures[name] == tabs[1][name]["png"], name
    notebooks = sorted({case.notebook for case in CASES.values()})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--output-dir",
            str(tmp_path),
            *(str(suite / "notebooks" / f"{notebook}.ipynb") for notebook in notebooks),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for name, picture in pictures.items():
        notebook = CASES[name].notebook
        page = browser.render(tmp_path / f"{notebook}.html", tmp_path / "shots")
        assert page.broken_images == []
        shown = browser.evaluate(
            tmp_path / f"{notebook}.html",
            "() => [...document.images].map((i) => i.src)",
        )
        digests = {
            hashlib.sha256(base64.b64decode(src.split(",", 1)[1])).hexdigest()
            for src in shown
            if src.startswith("data:image/png")
        }
        assert picture in digests, name


def _saved_picture(path, case: Case) -> str:
    """The SHA-256 of the PNG the saved notebook keeps for the widget's output."""
    import nbformat

    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "code" or not re.search(
            rf"\b{case.variable} = widgets\.", cell.source
        ):
            continue
        for output in cell.outputs:
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data and "image/png" in data:
                return hashlib.sha256(base64.b64decode(data["image/png"])).hexdigest()
    raise AssertionError(f"{path.name} saved no picture of {case.variable}")
