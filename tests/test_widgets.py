"""The widgets, driven from plain Python: settings in, the journey_lib answer out."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, to_engine
from pandas.testing import assert_frame_equal

import journey_lib as jl
import journey_lib.widgets as widgets
from journey_lib.errors import JourneyParameterError
from journey_lib.report import notebook_parameters, read_parameters
from journey_lib.simulator import TRUST_DRIVERS

matplotlib.use("Agg")

ROOT = Path(__file__).parents[1]
STEPS = ["ad_view", "site_visit", "purchase"]
PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return jl.load_events(ROOT / "data" / "sample" / "events.csv.gz")


@pytest.fixture(scope="module")
def churn_data():
    sim = jl.simulate(800, seed=1)
    X, y = jl.churn.build_dataset(sim.events, cutoff="2024-08-01")
    return jl.churn.train(X, y, model="logistic"), X, y


def check_report_params(widget: widgets.JourneyWidget, tmp_path: Path) -> dict:
    """The written file reads back as `journey report --params` reads it, naming only
    parameters the widget's notebook declares, with the widget's values and types."""
    written = widget.to_report_params(tmp_path / "params.yaml")
    given = read_parameters(params_file=written)
    declared = notebook_parameters(ROOT / "notebooks" / widget.notebook)
    assert given and set(given) <= set(declared)
    for name, value in given.items():
        assert value == widget.params[name]
        assert declared[name].accepts(value), (name, value)
    return given


def check_fallback(widget: widgets.JourneyWidget) -> None:
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(PNG)
    assert bundle["text/plain"].startswith(type(widget).__name__)
    output = widget.output.outputs[0]["data"]
    assert output["image/png"] == bundle["image/png"]


# -- every widget: its figure is the plots figure of its data ---------------------------------


def test_each_widget_draws_its_data_with_its_plots_figure(events, churn_data):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    model, X, y = churn_data
    scored = X.index[0]
    plt.close("all")
    made = {
        "funnel": widgets.FunnelBuilder(events, STEPS),
        "cohort": widgets.CohortExplorer(events),
        "targeting": widgets.TargetingWhatIf(model, X, y=y),
        "timeline": widgets.CustomerTimeline(
            jl.simulate(800, seed=1).events, [scored], model=model, X=X
        ),
        "trust": widgets.TrustWhatIf(jl.simulate(300, seed=2), keeping_promises=0.4),
    }
    assert plt.get_fignums() == []  # each PNG's figure was closed once drawn
    drawn = {}
    for name, widget in made.items():
        drawn[name] = widget.draw(widget.data, widget.params)
        assert isinstance(drawn[name], Figure), name
    funnel = drawn["funnel"].axes[0]
    assert [p.get_height() for p in funnel.patches] == made["funnel"].data["customers"].tolist()
    cells = drawn["cohort"].axes[0].collections[0].get_array()
    matrix = jl.retention_matrix(made["cohort"].data).dropna(axis=1, how="all")
    assert cells.size == matrix.size
    curve = drawn["targeting"].axes[0].get_lines()[0]
    assert curve.get_ydata().tolist() == made["targeting"].data["expected_profit"].tolist()
    score = made["timeline"].score
    title = drawn["timeline"].axes[0].get_title()
    assert title == f"Customer {scored}: touchpoints by stage (churn score {score:.1%})"
    bars = drawn["trust"].axes[0].containers[1]  # the scenario's bars
    assert [p.get_width() for p in bars] == made["trust"].data["scenario"].tolist()
    plt.close("all")


# -- funnel builder ---------------------------------------------------------------------------


def test_funnel_builder_follows_its_controls(events, tmp_path):
    builder = widgets.FunnelBuilder(events, STEPS)
    assert builder.error is None
    assert_frame_equal(builder.data, jl.funnel(events, STEPS, window="30D"))
    assert set(builder.controls["steps"].allowed_tags) == set(events["event"].unique())
    check_fallback(builder)

    before = builder.png
    builder.controls["window"].value = "7D"
    assert_frame_equal(builder.data, jl.funnel(events, STEPS, window="7D"))
    assert builder.png != before

    before = builder.png
    builder.controls["steps"].value = ["site_visit", "signup", "purchase"]
    builder.controls["order"].value = "any"
    builder.controls["breakdown"].value = "channel"
    builder.controls["start"].value = dt.date(2024, 3, 1)
    builder.controls["end"].value = dt.date(2024, 6, 1)
    expected = jl.funnel(
        jl.within(events, "2024-03-01", "2024-06-01"),
        ["site_visit", "signup", "purchase"],
        window="7D",
        order="any",
        breakdown="channel",
    )
    assert_frame_equal(builder.data, expected)
    assert builder.png != before
    assert builder.params == {
        "steps": ["site_visit", "signup", "purchase"],
        "order": "any",
        "window": "7D",
        "breakdown": "channel",
        "start": "2024-03-01",
        "end": "2024-06-01",
    }
    assert check_report_params(builder, tmp_path) == builder.params
    check_fallback(builder)


def test_funnel_builder_date_range_cuts_the_log_as_notebook_02_does(events):
    builder = widgets.FunnelBuilder(events, STEPS, start="2024-05-01")
    expected = jl.funnel(events[events["timestamp"] >= "2024-05-01"], STEPS, window="30D")
    assert_frame_equal(builder.data, expected)
    assert builder.params["end"] == ""

    # A step after `end` does not count, though its attempt started inside the range.
    builder.controls["end"].value = dt.date(2024, 6, 1)
    inside = events[events["timestamp"].between("2024-05-01", "2024-06-01", inclusive="left")]
    assert_frame_equal(builder.data, jl.funnel(inside, STEPS, window="30D"))
    started = jl.funnel(events, STEPS, window="30D", date_range=("2024-05-01", "2024-06-01"))
    assert builder.data["customers"].iloc[-1] < started["customers"].iloc[-1]


def test_funnel_builder_bad_settings_show_a_message(events, tmp_path):
    builder = widgets.FunnelBuilder(events, STEPS)
    builder.controls["steps"].value = []
    assert builder.data.empty and builder.png is None
    assert "steps must be a non-empty list" in builder.error
    shown = builder.output.outputs[0]["data"]
    assert "Cannot show these settings" in shown["text/plain"]
    assert "image/png" not in builder._repr_mimebundle_()
    assert "error: steps" in builder._repr_mimebundle_()["text/plain"]

    builder.controls["steps"].value = STEPS
    builder.controls["window"].value = "soon"
    assert "'soon' is not a duration" in builder.error
    builder.controls["window"].value = "14D"
    assert builder.error is None and builder.png is not None
    assert_frame_equal(builder.data, jl.funnel(events, STEPS, window="14D"))

    builder.controls["window"].value = ""  # no window: the widget can, the notebook cannot
    assert_frame_equal(builder.data, jl.funnel(events, STEPS))
    with pytest.raises(JourneyParameterError, match="needs a window"):
        builder.to_report_params(tmp_path / "p.yaml")


def test_funnel_builder_with_no_customers_says_so(events):
    builder = widgets.FunnelBuilder(events, STEPS, start="2030-01-01", end="2030-02-01")
    assert builder.error == "nothing to show: no customers match these settings"
    assert builder.data.empty and builder.png is None
    builder.controls["breakdown"].value = "channel"
    assert builder.error.startswith("nothing to show")
    builder.controls["start"].value = None
    builder.controls["end"].value = None
    assert builder.error is None
    assert_frame_equal(builder.data, jl.funnel(events, STEPS, window="30D", breakdown="channel"))


# -- cohort explorer --------------------------------------------------------------------------


def test_cohort_explorer_follows_its_controls(events, tmp_path):
    explorer = widgets.CohortExplorer(events)
    assert_frame_equal(explorer.data, jl.retention(events, period="month"))
    check_fallback(explorer)

    before = explorer.png
    explorer.controls["period"].value = "quarter"
    explorer.controls["kind"].value = "on_or_after"
    explorer.controls["cohort_event"].value = "signup"
    explorer.controls["return_event"].value = "purchase"
    expected = jl.retention(
        events,
        period="quarter",
        kind="on_or_after",
        cohort_event="signup",
        return_event="purchase",
    )
    assert_frame_equal(explorer.data, expected)
    assert explorer.png != before
    assert explorer.params == {
        "period": "quarter",
        "kind": "on_or_after",
        "cohort_event": "signup",
        "return_event": "purchase",
    }
    assert check_report_params(explorer, tmp_path) == {"period": "quarter"}
    check_fallback(explorer)


# -- churn targeting what-if ------------------------------------------------------------------


def test_targeting_scores_once_and_follows_its_controls(churn_data, tmp_path, monkeypatch):
    model, X, y = churn_data
    whatif = widgets.TargetingWhatIf(model, X, y=y)
    expected = model.target(X, offer_cost=5.0, save_rate=0.3, y=y)
    assert_frame_equal(whatif.data, expected.curve)
    assert_frame_equal(whatif.result.contacts, expected.contacts)
    check_fallback(whatif)

    def no_scoring(*args, **kwargs):
        raise AssertionError("the model scored again")

    monkeypatch.setattr(type(model), "predict_proba", no_scoring)
    before, chosen = whatif.png, whatif.result.chosen
    whatif.controls["offer_cost"].value = 20.0
    whatif.controls["save_rate"].value = 0.5
    whatif.controls["budget"].value = 10
    monkeypatch.undo()
    expected = model.target(X, offer_cost=20.0, save_rate=0.5, budget=10, y=y)
    assert_frame_equal(whatif.data, expected.curve)
    assert whatif.result.chosen == expected.chosen <= 10 and expected.chosen != chosen
    assert whatif.result.threshold == expected.threshold
    assert whatif.result.expected_profit == expected.expected_profit
    assert whatif.png != before
    assert f"{expected.expected_profit:,.2f}" in whatif.text()
    assert whatif.params == {"offer_cost": 20.0, "save_rate": 0.5, "budget": 10}
    assert check_report_params(whatif, tmp_path) == whatif.params
    check_fallback(whatif)


def test_targeting_bad_value_shows_a_message(churn_data):
    model, X, _ = churn_data
    whatif = widgets.TargetingWhatIf(model, X, value="no_such_column")
    assert "no_such_column" in whatif.error and whatif.result is None
    assert "Cannot show these settings" in whatif.output.outputs[0]["data"]["text/plain"]


# -- without a front end ----------------------------------------------------------------------


def test_executed_and_exported_notebook_shows_the_figure(tmp_path):
    """Run headless (as papermill does), the widget's output keeps a PNG. nbconvert shows
    the widget view only when the run saved the widget state (then the PNG is in the saved
    Output widget, drawn by the HTML widget manager); otherwise it shows the PNG itself."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    source = (
        "import journey_lib as jl\n"
        "import journey_lib.widgets as widgets\n"
        f"events = jl.load_events({str(ROOT / 'data' / 'sample' / 'events.csv.gz')!r})\n"
        "widgets.CohortExplorer(events, period='quarter')"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute(cwd=str(tmp_path))
    (output,) = nb.cells[0].outputs
    png = output["data"]["image/png"]
    assert {"text/plain", "application/vnd.jupyter.widget-view+json"} <= set(output["data"])
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    saved = [m["state"].get("outputs") for m in state.values() if m["model_name"] == "OutputModel"]
    assert [outputs[0]["data"]["image/png"] for outputs in saved] == [png]

    del nb.metadata["widgets"]  # a run that saved no widget state
    page, _ = HTMLExporter(exclude_input=True).from_notebook_node(nb)
    assert f'src="data:image/png;base64,{png}"' in page.replace("\n", "")


# -- customer timeline ------------------------------------------------------------------------


def test_customer_timeline_follows_the_chosen_customer(events, tmp_path):
    first = events["customer_id"].iloc[0]
    view = widgets.CustomerTimeline(events)
    assert view.error is None and view.customer == first
    assert_frame_equal(view.data, jl.timeline(events, [first]))
    assert view.score is None and "churn score" not in view.text()
    options = view.controls["customer"].options
    assert options[0] == str(first) and len(options) <= widgets.timeline.MAX_OPTIONS
    check_fallback(view)

    other = int(events["customer_id"].iloc[-1])  # typed as text, read as the log's int id
    assert str(other) not in options[:1]
    before = view.png
    view.controls["customer"].value = f" {other} "
    assert view.error is None and view.customer == other
    assert_frame_equal(view.data, jl.timeline(events, [other]))
    assert view.png != before
    assert view.params == {"customer": f" {other} "}
    check_fallback(view)

    chosen = widgets.CustomerTimeline(events, [other, first])
    assert chosen.controls["customer"].options[:2] == (str(other), str(first))
    assert_frame_equal(chosen.data, jl.timeline(events, [other]))

    written = view.to_report_params(tmp_path / "params.yaml")  # the notebook takes no id
    assert read_parameters(params_file=written) == {}


def test_customer_timeline_unknown_customer_shows_a_message(events):
    view = widgets.CustomerTimeline(events)
    for typed, message in [
        ("999999999", "999999999"),
        ("abc", "'abc' is not a customer id"),
        ("", "type or pick a customer id"),
    ]:
        view.controls["customer"].value = typed
        assert message in view.error and view.data.empty and view.png is None
        assert "Cannot show these settings" in view.output.outputs[0]["data"]["text/plain"]
        assert "image/png" not in view._repr_mimebundle_()
    first = int(events["customer_id"].iloc[0])
    view.controls["customer"].value = str(first)
    assert view.error is None and view.png is not None and view.customer == first
    assert_frame_equal(view.data, jl.timeline(events, [first]))


def test_customer_timeline_shows_the_churn_score(churn_data, monkeypatch):
    model, X, _ = churn_data
    log = jl.simulate(800, seed=1).events  # the log churn_data was built from
    probabilities = model.predict_proba(X)
    scored = X.index[0]
    calls = []
    predict = type(model).predict_proba
    monkeypatch.setattr(
        type(model), "predict_proba", lambda self, X: calls.append(len(X)) or predict(self, X)
    )
    view = widgets.CustomerTimeline(log, [scored], model=model, X=X)
    assert view.score == pytest.approx(probabilities[scored])
    reasons = model.reasons(X.loc[[scored]], top=3)
    assert_frame_equal(view.reasons, reasons)
    assert f"churn score: {probabilities[scored]:.1%}" in view.text()
    assert f"top reasons: {reasons['feature'].iloc[0]} (+" in view.text()
    check_fallback(view)

    unscored = next(c for c in log["customer_id"] if c not in X.index)
    view.controls["customer"].value = str(unscored)
    assert view.error is None and view.score is None and view.reasons is None
    assert "not among the scored customers" in view.text()
    view.controls["customer"].value = str(X.index[1])
    assert view.score == pytest.approx(probabilities[X.index[1]])
    assert calls == [len(X)]  # scored once, at construction (reasons score one customer)


def test_customer_timeline_needs_model_and_features_together(events, churn_data):
    with pytest.raises(JourneyParameterError, match="model and X go together"):
        widgets.CustomerTimeline(events, model=churn_data[0])


# -- trust what-if ----------------------------------------------------------------------------


def test_trust_whatif_resimulates_on_each_slider_and_resets(tmp_path, monkeypatch):
    baseline = jl.simulate(1200, seed=5)
    whatif = widgets.TrustWhatIf(baseline)
    assert tuple(whatif.controls) == TRUST_DRIVERS
    assert whatif.controls["keeping_promises"].value == baseline.params.keeping_promises
    assert_frame_equal(whatif.data, jl.what_if(baseline))
    assert whatif.params == {"customers": 1200, "seed": 5, "trust": {}}
    check_fallback(whatif)

    before = whatif.png
    whatif.controls["keeping_promises"].value = 0.4
    whatif.controls["service_quality"].value = 0.95
    expected = jl.what_if(baseline, keeping_promises=0.4, service_quality=0.95)
    assert_frame_equal(whatif.data, expected)
    assert whatif.png != before
    assert whatif.params["trust"] == {"keeping_promises": 0.4, "service_quality": 0.95}
    churn = expected.set_index("measure").loc["churn_rate"]
    assert f"{churn['baseline']:.1%} -> {churn['scenario']:.1%}" in whatif.text()
    given = check_report_params(whatif, tmp_path)
    assert given == {"customers": 1200, "seed": 5, "trust": whatif.params["trust"]}
    check_fallback(whatif)

    simulated = []
    monkeypatch.setattr(
        widgets.trust, "what_if", lambda sim, **kw: simulated.append(kw) or jl.what_if(sim, **kw)
    )
    whatif.reset_button.click()
    assert simulated == [{}]  # one re-simulation for eight sliders
    assert whatif.params["trust"] == {}
    assert (whatif.data["change"] == 0).all()


def test_trust_whatif_starts_from_given_levels_and_names_unknown_drivers():
    baseline = jl.simulate(600, seed=2)
    whatif = widgets.TrustWhatIf(baseline, respect=0.5)
    assert whatif.controls["respect"].value == 0.5
    assert_frame_equal(whatif.data, jl.what_if(baseline, respect=0.5))
    with pytest.raises(JourneyParameterError, match=r"unknown trust driver\(s\) \['kindness'\]"):
        widgets.TrustWhatIf(baseline, kindness=0.5)


# -- break down by a customer segment (issue 17) ----------------------------------------------


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "sample" / "customers.csv")


def by_values(widget: widgets.JourneyWidget) -> list[str]:
    return [value for _, value in widget.controls["by"].options]


def rule_shown(widget: widgets.JourneyWidget) -> bool:
    return widget.controls["by_rule"].layout.display != "none"


def test_breakdown_control_offers_only_segment_like_columns(events, customers):
    builder = widgets.FunnelBuilder(events, STEPS, customers=customers)
    # The sample log's channel and rating repeat a few values; its ids, times, events,
    # values and referred ids do not; the table's first_seen is a time per customer.
    assert by_values(builder) == [
        "",
        "channel",
        "rating",
        "acquisition_channel",
        "segment",
        "region",
        "plan",
    ]
    assert builder.controls["by"].options[0] == ("(none)", "")
    assert builder.controls["by"].options[3] == (
        "acquisition_channel (customers)",
        "acquisition_channel",
    )
    explorer = widgets.CohortExplorer(events)
    assert by_values(explorer) == ["", "channel", "rating"]
    # With a profile, its properties are the log's choices (the sample's channel is a role).
    profile = jl.profile(events)
    assert profile.properties == ("rating",)
    assert by_values(widgets.CohortExplorer(events, profile=profile)) == ["", "rating"]
    # A column both in the log and the table is offered once, as the table's.
    both = customers.assign(channel=customers["acquisition_channel"])
    assert by_values(widgets.FunnelBuilder(events, STEPS, customers=both)).count("channel") == 1
    assert "channel (customers)" in [
        label
        for label, _ in widgets.FunnelBuilder(events, STEPS, customers=both).controls["by"].options
    ]


def test_funnel_builder_breaks_down_by_a_log_column(events, tmp_path):
    builder = widgets.FunnelBuilder(events, STEPS)
    today, today_png = builder.data, builder.png
    assert not rule_shown(builder)

    builder.controls["by"].value = "channel"
    expected = jl.funnel(events, STEPS, window="30D", by="channel")
    assert_frame_equal(builder.data, expected)
    assert rule_shown(builder) and builder.error is None
    figure = builder.draw(builder.data, builder.params)
    segments = expected["channel"].unique()
    assert 2 <= len(segments) <= len(jl.plots.PALETTE)
    bars = figure.axes[0].containers
    assert len(bars) == len(segments)  # one bar series per segment
    for container in bars:
        segment = container.get_label().split(" (n=")[0]
        block = expected[expected["channel"] == segment].sort_values("step")
        assert [p.get_height() for p in container] == block["conversion_rate"].tolist()
    assert {c.get_label().split(" (n=")[0] for c in bars} == set(segments)
    matplotlib.pyplot.close(figure)

    builder.controls["by_rule"].value = "last"
    assert_frame_equal(
        builder.data, jl.funnel(events, STEPS, window="30D", by="channel", by_rule="last")
    )
    assert builder.params["by"] == "channel" and builder.params["by_rule"] == "last"
    assert set(builder.params) == set(builder.report_names)
    # Notebook 02 breaks its journey down by the same segment, by the same rule.
    given = check_report_params(builder, tmp_path)
    assert given["by"] == "channel" and given["by_rule"] == "last"
    assert set(given) == {"steps", "window", "order", "breakdown", "start", "end", "by", "by_rule"}
    # Its segment replaces its breakdown: both cannot be written as its parameters.
    builder.controls["breakdown"].value = "channel"
    with pytest.raises(JourneyParameterError, match=r"by a segment \(by\) or by a property"):
        builder.to_report_params(tmp_path / "both.yaml")
    builder.controls["breakdown"].value = ""

    builder.controls["by"].value = ""
    assert "by" not in builder.params and "by_rule" not in builder.params
    assert_frame_equal(builder.data, today)
    assert builder.png == today_png
    assert not rule_shown(builder)


def test_funnel_builder_breaks_down_by_a_customer_table_column(events, customers):
    builder = widgets.FunnelBuilder(
        events, STEPS, start="2024-03-01", end="2024-09-01", customers=customers
    )
    builder.controls["by"].value = "segment"
    assert not rule_shown(builder)  # a table has one value a customer: no rule
    assert builder.params["by"] == "segment" and "by_rule" not in builder.params
    expected = jl.funnel(
        jl.within(events, "2024-03-01", "2024-09-01"),
        STEPS,
        window="30D",
        by=jl.Segments("segment", customers=customers),
    )
    assert_frame_equal(builder.data, expected)
    assert set(expected["segment"]) == {"consumer", "small_business", "enterprise"}
    figure = builder.draw(builder.data, builder.params)
    heights = {
        c.get_label().split(" (n=")[0]: [p.get_height() for p in c]
        for c in figure.axes[0].containers
    }
    assert heights == {
        s: b.sort_values("step")["conversion_rate"].tolist() for s, b in expected.groupby("segment")
    }
    matplotlib.pyplot.close(figure)

    # A per-attempt breakdown and a segment together: the table, and a message for the figure.
    builder.controls["breakdown"].value = "channel"
    assert "one breakdown at a time" in builder.error and builder.png is None
    # The table is still there: the figure is what cannot show both.
    both = jl.funnel(
        jl.within(events, "2024-03-01", "2024-09-01"),
        STEPS,
        window="30D",
        breakdown="channel",
        by=jl.Segments("segment", customers=customers),
    )
    assert_frame_equal(builder.data, both)


def test_funnel_builder_refuses_a_column_it_does_not_offer(events):
    with pytest.raises(JourneyParameterError, match="by='customer_id' is not a column"):
        widgets.FunnelBuilder(events, STEPS, by="customer_id")
    with pytest.raises(JourneyParameterError, match="by_rule must be one of"):
        widgets.CohortExplorer(events, by="channel", by_rule="at_cutoff")
    with pytest.raises(JourneyParameterError, match="customer_id column"):
        widgets.CohortExplorer(events, customers=pd.DataFrame({"id": [1], "plan": ["a"]}))


def test_a_usable_by_beyond_the_rule_is_offered_and_computed(events, customers):
    """A column given as ``by`` that the segment-like rule leaves out (60 values, past its
    50) is added to the choices, so a report run with it cannot fail on the widget; an
    unusable one (a time, an absent column, an id) is still refused."""
    many = customers.assign(
        country=[f"c{i % 60}" for i in range(len(customers))],  # 60 values: past the rule
        joined=pd.to_datetime(customers["first_seen"], utc=True),
    )
    assert "country" not in widgets.FunnelBuilder(events, STEPS, customers=many).table_columns
    builder = widgets.FunnelBuilder(events, STEPS, customers=many, by="country")
    assert by_values(builder)[-1] == "country" and builder.table_columns[-1] == "country"
    assert builder.error is None and not rule_shown(builder)
    by = jl.Segments("country", customers=many)
    assert_frame_equal(builder.data, jl.funnel(events, STEPS, window="30D", by=by))
    # Ten largest countries and the rest in (other), as Segments' default top keeps them.
    assert builder.data["country"].nunique() == 11 and "(other)" in set(builder.data["country"])
    explorer = widgets.CohortExplorer(events, customers=many, by="country")
    assert_frame_equal(explorer.data, jl.retention(events, period="month", by=by))
    # A log column past the rule (a week of each event: more than 50) is a log column, with
    # its rule shown and applied.
    log = events.assign(week=events["timestamp"].dt.strftime("%Y-%W"))
    assert "week" not in widgets.CohortExplorer(log).log_columns
    weekly = widgets.CohortExplorer(log, by="week", by_rule="last")
    assert weekly.log_columns[-1] == "week" and rule_shown(weekly)
    expected = jl.retention(log, period="month", by="week", by_rule="last")
    assert_frame_equal(weekly.data, expected)
    # Times and absent columns are still refused, naming the column.
    for bad in ("joined", "nowhere", "timestamp"):
        with pytest.raises(JourneyParameterError, match=f"by='{bad}' is not a column"):
            widgets.FunnelBuilder(events, STEPS, customers=many, by=bad)


def test_the_widgets_and_the_report_offer_one_rule(events, customers):
    """The customer table's columns a widget offers are the report's, by one rule: 2 to 50
    repeated values, text or whole numbers, no dates or times."""
    from journey_lib.report import open_data
    from journey_lib.widgets.base import MAX_SEGMENT_VALUES, table_segment_columns

    assert MAX_SEGMENT_VALUES == 50
    n = len(customers)
    table = customers.assign(
        thirty=[f"t{i % 30}" for i in range(n)],  # 30 values: offered (was refused past 20)
        fifty=[i % 50 for i in range(n)],  # exactly the limit: offered
        fifty_one=[i % 51 for i in range(n)],  # one past it
        score=[(i % 7) / 3 for i in range(n)],  # fractional: an amount
        joined=pd.to_datetime(customers["first_seen"], utc=True),
    )
    rule = table_segment_columns(table)
    assert rule == ["acquisition_channel", "segment", "region", "plan", "thirty", "fifty"]
    assert widgets.FunnelBuilder(events, STEPS, customers=table).table_columns == rule
    data = open_data(events, quiet=False)
    data.customers = table
    assert data.segment_columns()[: len(rule)] == rule


def check_segment_lines(explorer: widgets.CohortExplorer, by: str) -> None:
    """One line per drawn segment (the largest, at most MAX_LINES), each its cohorts'
    period-1 rates of .data."""
    data = explorer.data
    figure = explorer.draw(data, explorer.params)
    lines = figure.axes[0].get_lines()
    sizes = data[data["period"] == 0].groupby(by)["cohort_size"].sum()
    finished = data[(data["period"] == 1) & data["complete"]]
    ranked = sizes[sizes.index.isin(finished[by])].sort_values(ascending=False, kind="stable")
    expected = ranked.index[: widgets.cohort.MAX_LINES].tolist()
    assert [line.get_label() for line in lines] == expected
    for line, segment in zip(lines, expected, strict=True):
        rows = finished[finished[by] == segment].sort_values("cohort")
        assert line.get_ydata().tolist() == rows["rate"].tolist()
    matplotlib.pyplot.close(figure)


def test_cohort_explorer_breaks_down_by_a_log_column(events, tmp_path):
    explorer = widgets.CohortExplorer(events)
    today, today_png = explorer.data, explorer.png
    explorer.controls["by"].value = "channel"
    assert_frame_equal(explorer.data, jl.retention(events, period="month", by="channel"))
    assert explorer.error is None and rule_shown(explorer)
    check_segment_lines(explorer, "channel")
    assert explorer.data["channel"].nunique() > widgets.cohort.MAX_LINES  # the top only

    explorer.controls["by_rule"].value = "last"
    explorer.controls["period"].value = "quarter"
    expected = jl.retention(events, period="quarter", by="channel", by_rule="last")
    assert_frame_equal(explorer.data, expected)
    check_segment_lines(explorer, "channel")
    assert check_report_params(explorer, tmp_path) == {
        "period": "quarter",
        "by": "channel",
        "by_rule": "last",
    }
    check_fallback(explorer)

    explorer.controls["period"].value = "month"
    explorer.controls["by"].value = ""
    assert_frame_equal(explorer.data, today)
    assert explorer.png == today_png


def test_cohort_explorer_breaks_down_by_a_customer_table_column(events, customers):
    explorer = widgets.CohortExplorer(
        events, customers=customers, cohort_event="signup", by="region"
    )
    assert not rule_shown(explorer)
    by = jl.Segments("region", customers=customers)
    assert_frame_equal(explorer.data, jl.retention(events, cohort_event="signup", by=by))
    check_segment_lines(explorer, "region")
    assert "segments by region" in explorer.text()
    # A table's column has no rule: the notebook's parameters name the column only (the
    # notebook reads it from its customers_path).
    assert explorer.report_params() == {"period": "month", "by": "region"}


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_breakdowns_in_widgets_agree_on_every_engine(engine):
    sim = jl.simulate(300, seed=3)
    log = to_engine(sim.events, engine)
    for by in ("channel", "segment"):
        builder = widgets.FunnelBuilder(log, STEPS, customers=sim.customers, by=by)
        reference = widgets.FunnelBuilder(sim.events, STEPS, customers=sim.customers, by=by)
        assert builder.error is None and builder.params == reference.params
        assert_same_frame(builder.data, reference.data)
        explorer = widgets.CohortExplorer(log, customers=sim.customers, by=by, by_rule="first")
        wanted = widgets.CohortExplorer(sim.events, customers=sim.customers, by=by)
        assert explorer.error is None
        assert_same_frame(explorer.data, wanted.data)


def test_breakdowns_in_widgets_agree_on_spark(spark):
    sim = jl.simulate(150, seed=4)
    log = to_engine(sim.events, "pyspark", spark)
    builder = widgets.FunnelBuilder(log, STEPS, customers=sim.customers, by="segment")
    reference = widgets.FunnelBuilder(sim.events, STEPS, customers=sim.customers, by="segment")
    assert builder.error is None
    assert_same_frame(builder.data, reference.data)
    explorer = widgets.CohortExplorer(log, by="channel", by_rule="last")
    assert explorer.error is None
    assert_same_frame(explorer.data, jl.retention(sim.events, by="channel", by_rule="last"))
