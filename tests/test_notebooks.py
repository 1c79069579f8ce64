"""The notebook suite: committed clean, parameterised, and executed end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

import journey_lib as jl
from journey_lib import widgets
from journey_lib.report import notebook_parameters, read_parameters, run_report

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
        "05_attribution_and_value",
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
    assert all(p.help for p in parameters.values()), "a parameter without its comment"
    # Every parameter is annotated with its type and commented with its meaning.
    for line in tagged[0].source.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r"^\w+: \w+ = .+  # .+", line), line
    # Each cell stays short: logic belongs in journey_lib.
    assert all(len(cell.source.splitlines()) <= 14 for cell in code)


def test_a_parameter_shared_by_notebooks_has_one_type():
    """`journey report -p NAME=VALUE` gives one value to every notebook declaring NAME."""
    types: dict[str, set[str]] = {}
    for path in SUITE:
        for name, parameter in notebook_parameters(path).items():
            types.setdefault(name, set()).add(parameter.type)
    assert {name: kinds for name, kinds in types.items() if len(kinds) > 1} == {}


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    """Two explorations saved with `.to_report_params()`: the primer's trust what-if on
    fewer customers, and a funnel of other steps and window on the bundled sample."""
    matplotlib.use("Agg")
    folder = tmp_path_factory.mktemp("explored")
    trust = widgets.TrustWhatIf(jl.simulate(1500, seed=7), keeping_promises=0.5)
    events = jl.load_events(NOTEBOOKS.parent / "data" / "sample" / "events.csv.gz")
    funnel = widgets.FunnelBuilder(
        events, ["site_visit", "signup", "purchase"], window="14D", breakdown="channel"
    )
    files = [w.to_report_params(folder / f"{n}.yaml") for n, w in (("t", trust), ("f", funnel))]
    return trust, funnel, [read_parameters(params_file=path) for path in files]


@pytest.fixture(scope="module")
def run(tmp_path_factory, explored):
    out = tmp_path_factory.mktemp("reports")
    *_, saved = explored
    parameters = {name: value for given in saved for name, value in given.items()}
    return run_report(NOTEBOOKS, parameters=parameters, out=out, timeout=900)


def test_every_notebook_runs_on_the_bundled_sample(run):
    assert run.exit_code == 0, run.summary()
    assert run.statuses == dict.fromkeys(NAMES, "ok")


def test_every_notebook_records_its_key_figures(run):
    metrics = json.loads((run.folder / "metrics.json").read_text())
    assert set(metrics) == set(NAMES)
    assert metrics["01_touchpoints"]["rows_set_aside"] == 0
    assert metrics["01_touchpoints"]["customers"] == 2000
    assert 0 < metrics["02_funnels"]["conversion_rate"] < 1
    assert 0.5 < metrics["04_churn_model"]["roc_auc"] <= 1
    assert metrics["00_customer_journey_primer"]["customers"] == 1500
    value = metrics["05_attribution_and_value"]
    sample = jl.load_events(NOTEBOOKS.parent / "data" / "sample" / "events.csv.gz")
    assert value["conversions"] == pytest.approx((sample["event"] == "purchase").sum())
    assert 0 < value["repeat_purchase_rate"] < 1 and value["mean_clv"] > 0


def test_widget_explorations_round_trip_through_the_report(run, explored):
    """The settings a widget saved give the report the numbers the widget showed."""
    trust, funnel, _ = explored
    metrics = json.loads((run.folder / "metrics.json").read_text())
    shown = trust.data.set_index("measure").loc["churn_rate", "change"]
    assert shown > 0 and metrics["00_customer_journey_primer"]["what_if_churn_change"] == shown
    # The report's funnel is overall; the builder's, by channel: its rows sum to it.
    by_channel = funnel.data.groupby("step", sort=False)["customers"].sum()
    reported = metrics["02_funnels"]
    assert (reported["entered"], reported["converted"]) == (by_channel.iloc[0], by_channel.iloc[-1])
    executed = nbformat.read(run.folder / "02_funnels.ipynb", as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert 'steps = ["site_visit", "signup", "purchase"]' in injected.source


@pytest.mark.parametrize("name", NAMES)
def test_the_html_shows_figures_and_no_code(run, name):
    page = (run.folder / f"{name}.html").read_text()
    assert page.count("data:image/png;base64") >= 1
    # Code cells keep their output but lose their input: no code editor area, no source.
    assert 'class="jp-CodeMirrorEditor' not in page and "import journey_lib" not in page
