"""The notebook suite: committed clean, parameterised, and executed end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from journey_lib.report import notebook_parameters, run_report

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SUITE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
NAMES = [path.stem for path in SUITE]


def test_the_suite_is_all_there():
    assert NAMES == [
        "00_customer_journey_primer",
        "01_touchpoints",
        "02_funnels",
        "03_retention",
        "04_churn_model",
    ]


@pytest.mark.parametrize("path", SUITE, ids=NAMES)
def test_committed_without_outputs_and_with_one_typed_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    parameters = notebook_parameters(path)
    assert "run_folder" in parameters
    # Every parameter is annotated with its type and commented with its meaning.
    for line in tagged[0].source.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r"^\w+: \w+ = .+  # .+", line), line
    # Each cell stays short: logic belongs in journey_lib.
    assert all(len(cell.source.splitlines()) <= 14 for cell in code)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    # The primer on fewer customers; everything else on the bundled sample, as make report.
    return run_report(NOTEBOOKS, parameters={"customers": 1500}, out=out, timeout=900)


def test_every_notebook_runs_on_the_bundled_sample(run):
    assert run.exit_code == 0, run.summary()
    assert run.statuses == dict.fromkeys(NAMES, "ok")


def test_every_notebook_records_its_key_figures(run):
    metrics = json.loads((run.folder / "metrics.json").read_text())
    assert set(metrics) == set(NAMES)
    assert metrics["01_touchpoints"]["rows_quarantined"] == 0
    assert metrics["01_touchpoints"]["customers"] == 2000
    assert 0 < metrics["02_funnels"]["conversion_rate"] < 1
    assert 0.5 < metrics["04_churn_model"]["roc_auc"] <= 1
    assert metrics["00_customer_journey_primer"]["customers"] == 1500


@pytest.mark.parametrize("name", NAMES)
def test_the_html_shows_figures_and_no_code(run, name):
    page = (run.folder / f"{name}.html").read_text()
    assert page.count("data:image/png;base64") >= 1
    # Code cells keep their output but lose their input: no code editor area, no source.
    assert 'class="jp-CodeMirrorEditor' not in page and "import journey_lib" not in page
