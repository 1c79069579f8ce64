"""The notebook suite: committed clean, parameterised, executed end to end as committed and
through `journey report`, and every figure it records equal to the library's."""

from __future__ import annotations

import ast
import csv
import dataclasses
import gzip
import json
import os
import re
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

import journey_lib as jl
from journey_lib import clv
from journey_lib.churn.call_list import MAX_REASONS
from journey_lib.report import notebook_parameters, run_report
from journey_lib.report.execute import KERNEL, child_env

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SUITE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
NAMES = [path.stem for path in SUITE]
SAMPLE = ROOT / "data" / "sample" / "events.csv.gz"


def test_the_suite_is_all_there():
    assert NAMES == [
        "00_customer_journey_primer",
        "01_touchpoints",
        "02_funnels",
        "03_retention",
        "04_churn_model",
        "05_attribution_and_value",
        "06_segments",
        "07_changes",
        "08_campaigns",
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
    # Each cell stays short: logic belongs in journey_lib. The parameters cell holds only
    # declarations, one a line, each held to the pattern above, and its heading (07
    # declares 18: its scan's knobs, trend among them, and the runner's engine and prepared).
    assert all(len(cell.source.splitlines()) <= 14 for cell in code[1:])
    assert len(code[0].source.splitlines()) <= 19


def test_a_parameter_shared_by_notebooks_has_one_type():
    """`journey report -p NAME=VALUE` gives one value to every notebook declaring NAME."""
    types: dict[str, set[str]] = {}
    for path in SUITE:
        for name, parameter in notebook_parameters(path).items():
            types.setdefault(name, set()).add(parameter.type)
    assert {name: kinds for name, kinds in types.items() if len(kinds) > 1} == {}


def test_the_data_notebooks_take_min_cell_as_the_run_describes_it():
    """Every notebook reading the data hides small cells on its page with the run's
    ``min_cell`` (off by default); the primer's customers are simulated."""
    from journey_lib.report.summarise import RUN_PARAMETERS

    for path in SUITE:
        declared = notebook_parameters(path)
        if path.stem.startswith("00"):
            assert "min_cell" not in declared
            continue
        min_cell = declared["min_cell"]
        assert (min_cell.type, min_cell.default) == ("int", "0"), path.stem
        assert min_cell.help == RUN_PARAMETERS["min_cell"], path.stem
        source = "".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        assert "min_cell=min_cell" in source, path.stem  # open_data hides with it


@pytest.fixture(scope="module")
def given(report_settings):
    """What the report is given (tests/conftest.py): the widgets' settings, and the quicker
    model and 20 resamples (the committed hgb and 200 resamples run in `committed`)."""
    return report_settings


@pytest.fixture(scope="module")
def run(sample_report):
    """`journey report` as a user runs it after exploring: the session's sample report,
    whose pages tests/test_report_pages.py reads too."""
    return sample_report


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """Every notebook exactly as committed, defaults untouched, as papermill runs it from
    the notebooks folder; only ``run_folder`` is given, so the figures land in a temporary
    folder with the executed copies. Name -> "ok" or the error, and the figures recorded."""
    folder = tmp_path_factory.mktemp("committed")
    statuses = {}
    with pytest.MonkeyPatch.context() as patch:
        # The kernel runs this interpreter, as `journey report`'s do, whatever other
        # "python3" kernel a machine has.
        for name, value in child_env(tmp_path_factory.mktemp("kernel")).items():
            if os.environ.get(name) != value:
                patch.setenv(name, value)
        # One OpenMP thread: scikit-learn's spin on a busy 2-core machine (benchmarks/
        # README.md, churn model); 04's permutation importance took 274 s with two threads
        # and 20 s with one, recording the same figures to the last bit.
        patch.setenv("OMP_NUM_THREADS", "1")
        for path in SUITE:
            try:
                papermill.execute_notebook(
                    str(path),
                    str(folder / path.name),
                    parameters={"run_folder": str(folder)},
                    kernel_name=KERNEL,
                    cwd=str(NOTEBOOKS),
                    progress_bar=False,
                    execution_timeout=900,
                )
                statuses[path.stem] = "ok"
            except papermill.PapermillExecutionError as error:
                statuses[path.stem] = f"cell {error.cell_index}: {error.ename}: {error.evalue}"
    return statuses, json.loads((folder / "metrics.json").read_text())


# --------------------------------------------------------------------------------------------
# The figures each notebook records, computed here from the same data with the same
# parameters through journey_lib's public calls (and, where a count or a textbook formula
# gives the number another way, that way too), never from the notebook's run.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    """The bundled log as the notebooks read it with ``profile={}``, and its profile."""
    profile = jl.profile(SAMPLE)
    events = jl.load_events(SAMPLE)
    assert profile.read(SAMPLE).clean.equals(events)  # the profile reads it as load_events
    return events, profile


def settings(name: str, given: dict) -> dict:
    """What notebook ``name`` runs with: its committed defaults, read from its parameters
    cell, with the ``given`` values it declares."""
    declared = notebook_parameters(NOTEBOOKS / f"{name}.ipynb")
    values = {key: ast.literal_eval(p.default) for key, p in declared.items()}
    values.update({key: value for key, value in given.items() if key in declared})
    # The figures below read the whole sample, as these notebooks do by default.
    assert values.get("start", "") == values.get("end", "") == "", name
    assert (NOTEBOOKS / values.get("data_path", SAMPLE)).resolve() == SAMPLE, name
    return values


def primer(s: dict) -> dict:
    sim = jl.simulate(s["customers"], seed=s["seed"])
    change = jl.what_if(sim, **s["trust"]).set_index("measure").loc["churn_rate", "change"]
    if not s["trust"]:
        assert change == 0  # no change is the same run
    return {
        "customers": s["customers"],
        "touchpoints": len(sim.events),
        "what_if_churn_change": change,
    }


def touchpoints(events) -> dict:
    # Counted in the file itself, apart from journey_lib's reader.
    with gzip.open(SAMPLE, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "rows_read": len(rows),
        "rows_set_aside": len(jl.read_events(SAMPLE).quarantine),
        "customers": len({row["customer_id"] for row in rows}),
        "touchpoints": len(events),
    }


def funnel(events, profile, s: dict) -> dict:
    steps = s["steps"] or list(profile.funnel)
    table = jl.funnel(events, steps, window=s["window"], order=s["order"])
    entered, converted = table["customers"].iloc[0], table["customers"].iloc[-1]
    assert entered == events.loc[events["event"] == steps[0], "customer_id"].nunique()
    return {"entered": entered, "converted": converted, "conversion_rate": converted / entered}


#: One period after a period's start, for the churn rate by hand.
NEXT = {"day": {"days": 1}, "week": {"weeks": 1}, "month": {"months": 1},
        "quarter": {"months": 3}, "year": {"years": 1}}  # fmt: skip


def retention(events, profile, s: dict) -> dict:
    period, inactivity = s["period"] or profile.period, s["inactivity"] or profile.inactivity
    table = jl.churn_rate(events, period=period, inactivity=inactivity)
    last = table.dropna(subset=["churn_rate"]).iloc[-1]
    # By hand: of those active (an event in the inactivity window) as the period starts, the
    # share not active as it ends.
    start, window = last["period"], pd.Timedelta(inactivity)
    end = start + pd.DateOffset(**NEXT[period])

    def active(at):
        recent = events[events["timestamp"].between(at - window, at, inclusive="left")]
        return set(recent["customer_id"])

    lost = len(active(start) - active(end)) / len(active(start))
    assert last["churn_rate"] == pytest.approx(lost, rel=1e-12)
    return {"churn_rate_last_period": last["churn_rate"]}


def churn_model(events, profile, s: dict) -> dict:
    table = s["customers_path"]  # beside the log, relative to the notebooks as they run
    with warnings.catch_warnings():
        # The customer table's referrer ids are left out, as the notebook notes on its page.
        warnings.simplefilter("ignore", jl.JourneyDataWarning)
        X, y = jl.churn.build_dataset(
            events,
            profile=profile,
            cutoff=s["cutoff"] or profile.cutoff,
            horizon=s["horizon"] or profile.horizon,
            customers=jl.read_table(NOTEBOOKS / table)[0] if table else None,
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=s["holdout"], stratify=y, random_state=s["seed"]
    )
    model = s["model"]
    fitted = jl.churn.train(X_train, y_train, model=model, random_state=s["seed"])
    table = fitted.evaluate(X_test, y_test, random_state=s["seed"]).table()[model]
    assert s["value"] == ""  # the value of a customer kept: their past spend
    plan = fitted.target(
        X_test,
        offer_cost=s["offer_cost"],
        save_rate=s["save_rate"],
        budget=s["budget"] or None,
        y=y_test,
    )
    # The textbook figures from the scores themselves.
    scores = fitted.predict_proba(X_test)
    assert table["roc_auc"] == pytest.approx(roc_auc_score(y_test, scores), rel=1e-12)
    assert table["pr_auc"] == pytest.approx(average_precision_score(y_test, scores), rel=1e-12)
    assert table["brier"] == pytest.approx(brier_score_loss(y_test, scores), rel=1e-12)
    assert table["lift_top_10%"] == pytest.approx(lift(y_test, scores, 0.1), rel=1e-12)
    gain = scores * s["save_rate"] * X_test["value_total"].to_numpy() - s["offer_cost"]
    if not s["budget"]:  # every offer expected to pay is made
        assert plan.chosen == (gain > 0).sum()
        assert plan.expected_profit == pytest.approx(gain[gain > 0].sum(), rel=1e-12)
    # Who to call today: trained a horizon before the log's end, everyone active at it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)
        risk = jl.churn.at_risk(
            events,
            profile=profile,
            horizon=s["horizon"] or profile.horizon,
            customers=jl.read_table(NOTEBOOKS / s["customers_path"])[0]
            if s["customers_path"]
            else None,
            model=model,
            seed=s["seed"],
            offer_cost=s["offer_cost"],
            save_rate=s["save_rate"],
            budget=s["budget"] or None,
        )
    listed = risk.table
    end = events["timestamp"].max().floor("D") + pd.Timedelta(days=1)
    assert risk.scored_at == end and risk.trained_at == end - pd.Timedelta(risk.horizon)
    chosen = listed["contact"]
    return {
        **table[["roc_auc", "pr_auc", "brier", "lift_top_10%"]].to_dict(),
        "customers_scored": len(listed),
        "at_risk_customers": int((listed["churn_probability"] >= 0.5).sum()),
        "value_at_risk": (listed["churn_probability"] * listed["value"]).sum(),
        "contacts": int(chosen.sum()),
        "expected_profit": listed.loc[chosen, "expected_value"].sum(),
        "reasons_sought": min(len(listed), MAX_REASONS),
        "scored_at": f"{end:%Y-%m-%d}",
        "trained_at": f"{risk.trained_at:%Y-%m-%d}",
        "horizon": risk.horizon,
        "offer_cost": s["offer_cost"],
        "save_rate": s["save_rate"],
        "budget": s["budget"] or None,
        "ranking": "risk",  # the sample logs no campaign
    }


def campaigns(s: dict) -> dict:
    """The sample logs no campaign: 08 simulates one and reads it back as a log."""
    sim = jl.simulate(
        s["simulated_customers"], seed=s["seed"], campaigns=[jl.Campaign("2024-06-03")]
    )
    X, t, y = data = jl.uplift.campaign_dataset(sim.events, within="90D", inactivity="90D")
    effect = jl.uplift.campaign_effect(data.frame()).iloc[0]
    train, test = train_test_split(
        X.index, test_size=s["holdout"], stratify=t.astype(str) + y.astype(str),
        random_state=s["seed"],
    )  # fmt: skip
    stay, arm = 1 - y[test], t[test]
    qini = max(
        jl.uplift.qini_coefficient(
            stay, -jl.uplift.fit(X.loc[train], t[train], y[train], learner=k).predict_uplift(
                X.loc[test]
            ), arm
        )["qini"]
        for k in "tsx"
    )  # fmt: skip
    model = jl.uplift.fit(X.loc[train], t[train], y[train], learner=s["learner"])
    both = jl.uplift.compare_targeting(
        X.loc[test],
        uplift=model.predict_uplift(X.loc[test]),
        risk=model.predict_outcome(X.loc[test]),
        offer_cost=s["offer_cost"],
        save_rate=s["save_rate"],
        budget=s["budget"] or None,
        y=y[test],
        treatment=arm,
    )
    return {
        "campaign_logged": False,
        "campaign_customers": len(X),
        "campaign_effect": effect["effect"],
        "campaign_p_value": effect["p_value"],
        "qini": qini,
        "profit_by_uplift": both.table.loc["by uplift", "realised_profit"],
        "profit_by_risk": both.table.loc["by risk", "realised_profit"],
    }


def lift(y, scores, share: float) -> float:
    """Churn rate among the top ``share`` by score over the overall rate; customers tied at
    the cut count in proportion (the expectation over random tie-breaks)."""
    frame = pd.DataFrame({"y": np.asarray(y), "p": scores})
    blocks = frame.groupby("p")["y"].agg(["size", "sum"]).sort_index(ascending=False)
    room, churners = share * len(frame), 0.0
    for size, churned in blocks.itertuples(index=False):
        taken = min(size, room)
        churners += churned * taken / size
        room -= taken
        if room <= 0:
            break
    return churners / (share * len(frame)) / frame["y"].mean()


def value(events, profile, s: dict) -> dict:
    conversion = s["conversion"] or profile.conversion
    credit = jl.attribute(
        events,
        conversion=conversion,
        lookback=s["lookback"],
        order=s["markov_order"],
        n_boot=s["n_boot"],
        seed=s["seed"],
    )
    history = jl.rfm(events, observation_end=events["timestamp"].max(), purchase_event=conversion)
    purchases = clv.BetaGeo().fit(history)
    spend = clv.GammaGamma().fit(history[history["monetary_value"] > 0])
    lifetime = clv.value_table(
        purchases, spend, history, months=s["months"], discount_rate=s["discount_rate"]
    )
    loyal = jl.loyalty(
        events, profile=profile, purchase_event=conversion, period=s["period"] or None
    )
    # Counted in the log: every conversion is credited once; buyers who bought again.
    bought = events.loc[events["event"] == conversion, "customer_id"].value_counts()
    assert credit["conversions"].sum() == pytest.approx(bought.sum(), rel=1e-12)
    repeat = (bought > 1).mean()
    assert loyal.overall["repeat_purchase_rate"] == pytest.approx(repeat, rel=1e-12)
    return {
        "conversions": credit["conversions"].sum(),
        "top_channel": credit.loc[credit["conversions"].idxmax(), "channel"],
        "top_channel_share": credit.loc[credit["conversions"].idxmax(), "share"],
        "mean_clv": lifetime["clv"].mean(),
        "repeat_purchase_rate": loyal.overall["repeat_purchase_rate"],
        "advocates": len(loyal.advocates),
    }


#: The sample's first three segment columns: its customer table's text columns with a few
#: repeated values, in the table's order (plan, the fourth, is left out).
SAMPLE_SEGMENTS = ["acquisition_channel", "segment", "region"]


def conversion_odds_ratio(events, conversion: str, event: str, window: str) -> float:
    """The odds ratio of converting for customers who did ``event`` by hand, as
    journey_lib.drivers defines it: customers whose window (first touchpoint + ``window``)
    closed by the log's end; converted when their first conversion falls in it; ``event``
    counted in the window strictly before that first conversion (a non-converter: the whole
    window); 0.5 added to every cell of a table with a zero cell."""
    first = events.groupby("customer_id")["timestamp"].min()
    close = first + pd.Timedelta(window)
    people = close.index[close <= events["timestamp"].max()]
    bought = events[events["event"] == conversion].groupby("customer_id")["timestamp"].min()
    converted = (bought.reindex(people) <= close[people]).rename("y")
    rows = events[events["customer_id"].isin(people)].join(converted, on="customer_id")
    before = rows["timestamp"] < rows["customer_id"].map(bought)
    seen = np.where(rows["y"], before, rows["timestamp"] <= rows["customer_id"].map(close))
    flag = converted.index.isin(rows.loc[seen & (rows["event"] == event), "customer_id"])
    a, b = (converted & flag).sum(), (~converted & flag).sum()
    c, d = (converted & ~flag).sum(), (~converted & ~flag).sum()
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return a * d / (b * c)


def segments(events, profile, s: dict) -> dict:
    table = jl.read_table(NOTEBOOKS / s["customers_path"])[0] if s["customers_path"] else None
    columns = [c.strip() for c in s["by"].split(",") if c.strip()] or SAMPLE_SEGMENTS
    profile = dataclasses.replace(
        profile,
        period=s["period"] or profile.period,
        inactivity=s["inactivity"] or profile.inactivity,
    )
    from scipy.stats import false_discovery_control  # here: the 06 figures alone use it

    # gaps_beyond_chance: each column's comparison is its own Benjamini-Hochberg family
    # (recomputed here with scipy from the raw p-values), and the figure sums the gaps of
    # each family; one correction over every column at once would be another number.
    gaps = 0
    for column in columns:
        customers = table if table is not None and column in table else None
        by = jl.Segments(column, rule=s["by_rule"], top=s["top"], customers=customers)
        found = jl.compare_segments(events, by, profile=profile)
        p = found["p_value"].dropna().to_numpy()
        gaps += int((false_discovery_control(p) < 0.05).sum()) if len(p) else 0
    own = [c for c in columns if table is not None and c in table]
    figures = {"segment_columns": ", ".join(columns), "gaps_beyond_chance": gaps}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)
        converting = jl.drivers(
            events,
            "conversion",
            profile=profile,
            customers=table if own else None,
            customer_columns=own or None,
        )
        churning = jl.drivers(events, "churn", profile=profile, customers=table)
    for name, found in (("conversion", converting), ("churn", churning)):
        rows = found.table
        top = rows[rows["tested"] & (rows["p_adjusted"] < 0.05)].iloc[0]
        label = top["value"] if top["feature"] == "event" else f"{top['feature']} = {top['value']}"
        figures[f"top_{name}_driver"] = label
        figures[f"top_{name}_odds_ratio"] = top["odds_ratio"]
    # The sample's strongest conversion driver, signup, by hand.
    assert figures["top_conversion_driver"] == "signup"
    by_hand = conversion_odds_ratio(events, profile.conversion, "signup", "30D")
    assert figures["top_conversion_odds_ratio"] == pytest.approx(by_hand, rel=1e-12)
    return figures


def changes(events, profile, s: dict) -> dict:
    """What changed: jl.changes on the sample with the notebook's settings, by the same
    columns as notebook 06 (none named: the first three the data offers). The sample has no
    planted incident, so an honest scan finds nothing; a change here is a false alarm."""
    table = jl.read_table(NOTEBOOKS / s["customers_path"])[0] if s["customers_path"] else None
    columns = [c.strip() for c in s["by"].split(",") if c.strip()] or SAMPLE_SEGMENTS
    customers = table if table is not None and any(c in table for c in columns) else None
    by = jl.Segments(columns, rule=s["by_rule"], top=s["top"], customers=customers)
    found = jl.changes(
        events,
        profile,
        period=s["scan_period"],
        by=by,
        alpha=s["alpha"],
        min_size=s["min_size"],
        min_count=max(s["min_count"], s["min_cell"]),
        trend=s["trend"],
    )
    assert len(found) == 0, found.table
    assert found.tests > 10_000  # every series scanned, not none
    return {"changes_found": 0}


def expected_figures(events, profile, given: dict[str, dict]) -> dict:
    """Each notebook's figures, from its settings with what it was given (by name)."""

    def of(name: str) -> dict:
        return settings(name, given.get(name, {}))

    return {
        "00_customer_journey_primer": primer(of("00_customer_journey_primer")),
        "01_touchpoints": touchpoints(events),
        "02_funnels": funnel(events, profile, of("02_funnels")),
        "03_retention": retention(events, profile, of("03_retention")),
        "04_churn_model": churn_model(events, profile, of("04_churn_model")),
        "05_attribution_and_value": value(events, profile, of("05_attribution_and_value")),
        "06_segments": segments(events, profile, of("06_segments")),
        "07_changes": changes(events, profile, of("07_changes")),
        "08_campaigns": campaigns(of("08_campaigns")),
    }


def assert_recorded(recorded: dict, expected: dict) -> None:
    """Every figure recorded is expected (none goes unchecked) and equal: text and counts
    exactly, measures to a relative 1e-9 (they went through JSON)."""
    assert set(recorded) == set(expected)
    for name, want in expected.items():
        got = recorded[name]
        if want is None or isinstance(want, str):
            assert got == want, name
        else:
            assert got == pytest.approx(float(want), rel=1e-9), name


def test_every_notebook_runs_on_the_bundled_sample(run):
    assert run.manifest["exit_code"] == 0, run.manifest
    assert run.statuses == dict.fromkeys(NAMES, "ok")


def test_each_notebook_is_given_the_settings_saved_and_nothing_else(run, given, sample):
    """Besides the run folder, the log it read once with its engine, and the profile the
    notebooks would infer, the report hands each notebook the saved settings it declares.
    Only a log given to `journey report` would lose the sample's customer table: on its
    own sample, 04 keeps it."""
    _, profile = sample
    for name, path in zip(NAMES, SUITE, strict=True):
        declared = notebook_parameters(path)
        received = dict(run.parameters[name])
        received.pop("run_folder")  # the folder the run was built in, before its renaming
        if "prepared" in declared:  # the log read once, in the run's scratch folder
            assert Path(received.pop("prepared")).name == "prepared", name
            # The engine "auto" chose: pandas, for a log of 2,000 customers.
            assert received.pop("engine") == "pandas", name
        if "profile" in declared:
            assert received.pop("profile") == profile.to_dict(), name
        assert received == {key: value for key, value in given.items() if key in declared}, name


def recorded_by_notebook(metrics: dict) -> dict:
    """metrics.json by notebook: the primer's simulated figures are kept apart, under
    "teaching", and the run's own summary under "summary"."""
    teaching = metrics.pop("teaching")
    assert set(teaching) == {"00_customer_journey_primer"}
    return {**teaching, **metrics}


def test_every_figure_the_report_records_is_the_library_s(run, sample):
    metrics = json.loads((run.folder / "metrics.json").read_text())
    assert "summary" in metrics  # the run's summary (tests/test_summary_page.py)
    metrics.pop("summary")
    metrics = recorded_by_notebook(metrics)
    assert set(metrics) == set(NAMES)
    # With what each notebook was given (the test above checks that against the settings).
    received = run.parameters
    expected = expected_figures(*sample, received)
    for name in NAMES:
        assert_recorded(metrics[name], expected[name])
    # The figures known without the library: the sample's 2,000 customers, all rows usable;
    # the exploration's 1,500 simulated customers.
    assert metrics["01_touchpoints"]["customers"] == 2000
    assert metrics["01_touchpoints"]["rows_set_aside"] == 0
    assert metrics["00_customer_journey_primer"]["customers"] == 1500


def test_the_notebooks_as_committed_run_and_record_the_library_s_figures(committed, run, sample):
    statuses, metrics = committed
    assert statuses == dict.fromkeys(NAMES, "ok")
    metrics = recorded_by_notebook(metrics)
    assert set(metrics) == set(NAMES)
    expected = expected_figures(*sample, {})
    for name in NAMES:
        assert_recorded(metrics[name], expected[name])
    # Where the report changed no setting that counts, it records the same figures as the
    # notebooks on their own (it hands them the profile they would infer; resamples change
    # the credit's intervals, not the credit).
    reported = json.loads((run.folder / "metrics.json").read_text())
    for name in ("01_touchpoints", "03_retention", "05_attribution_and_value"):
        assert reported[name] == metrics[name], name


def test_widget_explorations_round_trip_through_the_report(run, explored):
    """The settings a widget saved give the report the numbers the widget showed."""
    trust, funnel, _ = explored
    metrics = json.loads((run.folder / "metrics.json").read_text())
    shown = trust.data.set_index("measure").loc["churn_rate", "change"]
    primer = metrics["teaching"]["00_customer_journey_primer"]
    assert shown > 0 and primer["what_if_churn_change"] == shown
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


# --------------------------------------------------------------------------------------------
# A customer segment given to the whole run: 02 and 03 break their journeys down by it
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def by_segment(tmp_path_factory):
    """`journey report --only 02,03 -p by=segment`: the sample's customer table's segment."""
    out = tmp_path_factory.mktemp("by-segment")
    return run_report(NOTEBOOKS, parameters={"by": "segment"}, only=["02", "03"], out=out)


def outputs(folder: Path, notebook: str, cell: str) -> str:
    """The text a cell of an executed notebook showed (figures by their repr)."""
    executed = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
    source = next(c for c in executed.cells if c.get("id") == cell)
    shown = [o.get("data", {}) for o in source.outputs]
    return "\n".join(d.get("text/markdown", d.get("text/plain", "")) for d in shown)


def test_02_and_03_break_the_journey_down_by_the_segment_given(by_segment, sample):
    assert by_segment.exit_code == 0, by_segment.summary()
    events, profile = sample
    table = jl.read_table(ROOT / "data" / "sample" / "customers.csv")[0]
    names = sorted(table["segment"].unique())
    assert names == ["consumer", "enterprise", "small_business"]
    folder = by_segment.folder
    # One panel per segment of the stage funnel, and its reading names the best and worst at
    # the last stage, as the stage funnel by segment counts them.
    stages = outputs(folder, "02_funnels", "9d69f62a")
    assert f"with {len(names)} Axes>" in stages
    by = jl.Segments("segment", customers=table)
    split = jl.stage_funnel(events, profile=profile, unmapped="ignore", by=by)
    last = split[split["step"] == split["step"].max()].set_index("segment")["conversion_rate"]
    best, worst = last.idxmax(), last.idxmin()
    assert f"{best} reaches {split['stage'].iloc[-1]} most ({last[best]:.1%}" in stages
    assert f"and {worst} least ({last[worst]:.1%}" in stages
    # The funnel builder breaks the funnel down by segment instead of by channel: a block of
    # rows per segment.
    builder = outputs(folder, "02_funnels", "518f75e9")
    assert "breakdown='', by='segment'" in builder
    steps = list(profile.funnel)
    split = jl.funnel(events, steps, window="30D", order="ordered", by=by)
    assert list(split.columns[:2]) == ["segment", "step"]  # no channel breakdown beside it
    assert split.to_string(index=False, max_rows=40) in builder  # the builder's .data
    assert jl.report.readings.breakdown_reading(split) in builder
    # 03: a retention curve and a churn rate per segment.
    curves = outputs(folder, "03_retention", "3c0e5b17")
    assert "by='segment'" in curves and all(name in curves for name in names)
    churn = jl.churn_rate(events, period=profile.period, inactivity=profile.inactivity, by=by)
    latest = churn.dropna(subset=["churn_rate"])
    latest = latest[latest["period"] == latest["period"].max()].set_index("segment")
    rates = latest["churn_rate"]
    text = outputs(folder, "03_retention", "2dcf700c")
    assert f"churn was highest for {rates.idxmax()} ({rates.max():.1%}" in text
    assert f"lowest for {rates.idxmin()} ({rates.min():.1%}" in text
    # The headline figures are the whole log's, whatever the breakdown.
    metrics = json.loads((folder / "metrics.json").read_text())
    assert_recorded(metrics["02_funnels"], funnel(events, profile, settings("02_funnels", {})))
    assert_recorded(
        metrics["03_retention"], retention(events, profile, settings("03_retention", {}))
    )


def sample_with_countries(folder: Path) -> Path:
    """The sample's customer table with a ``country`` of 30 values (more than the 20 the
    widgets once offered, within the segment-like rule's 50), written as a CSV."""
    table = jl.read_table(ROOT / "data" / "sample" / "customers.csv")[0]
    table["country"] = [f"k{i % 30:02d}" for i in range(len(table))]
    path = folder / "customers.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def by_country(tmp_path_factory):
    """`journey report --only 02,03 -p by=country,region -p customers_path=...`: a list of
    columns (06's form), whose first is a 30-value column of the customer table."""
    out = tmp_path_factory.mktemp("by-country")
    table = sample_with_countries(out)
    parameters = {"by": "country,region", "customers_path": str(table)}
    return run_report(NOTEBOOKS, parameters=parameters, only=["02", "03"], out=out), table


def test_02_and_03_take_the_first_of_a_list_and_a_column_of_many_values(by_country, sample):
    run, path = by_country
    assert run.exit_code == 0, run.summary()
    assert run.statuses == {"02_funnels": "ok", "03_retention": "ok"}
    events, profile = sample
    table = jl.read_table(path)[0]
    folder = run.folder
    # One sentence each page: the first column is taken, the rest named.
    said = (
        "This page breaks the journey down by one segment column, the first named: country "
        "(region left out; notebook 06 compares each on its own)."
    )
    for name, cell in (("02_funnels", "0e432c1f"), ("03_retention", "538ed346")):
        assert said in outputs(folder, name, cell), name
    # The pages' analytics: six largest countries and (other).
    shown = jl.Segments("country", top=6, customers=table)
    stages = jl.stage_funnel(events, profile=profile, unmapped="ignore", by=shown)
    assert stages["country"].nunique() == 7 and "(other)" in set(stages["country"])
    stage_text = outputs(folder, "02_funnels", "9d69f62a")
    assert jl.report.segment_readings.segment_funnels_reading(stages) in stage_text
    # The widgets offer the column they were given and break down by it (their top: 10).
    wide = jl.Segments("country", customers=table)
    split = jl.funnel(events, list(profile.funnel), window="30D", order="ordered", by=wide)
    builder = outputs(folder, "02_funnels", "518f75e9")
    assert "breakdown='', by='country'" in builder and "error" not in builder
    assert split.to_string(index=False, max_rows=40) in builder
    period = profile.period
    curve = jl.retention_curve(jl.retention(events, period=period, by=wide))
    curves = outputs(folder, "03_retention", "3c0e5b17")
    assert "by='country'" in curves and "error" not in curves
    assert jl.report.segment_readings.segment_retention_reading(curve, period) in curves
    churn = jl.churn_rate(events, period=period, inactivity=profile.inactivity, by=shown)
    churn_text = outputs(folder, "03_retention", "2dcf700c")
    assert jl.report.segment_readings.segment_churn_reading(churn) in churn_text


#: A privacy threshold that hides some of the sample's segment cells (its enterprise
#: customers at the later stages, say).
MIN_CELL = 60


@pytest.fixture(scope="module")
def by_segment_private(tmp_path_factory):
    """`journey report --only 02,03 -p by=segment -p min_cell=60`: no widget (it cannot hide
    small cells), each figure and reading from what the page may show."""
    out = tmp_path_factory.mktemp("by-segment-private")
    parameters = {"by": "segment", "min_cell": MIN_CELL}
    return run_report(NOTEBOOKS, parameters=parameters, only=["02", "03"], out=out)


def test_02_and_03_break_down_by_segment_from_what_may_be_shown(by_segment_private, sample):
    run = by_segment_private
    assert run.exit_code == 0, run.summary()
    events, profile = sample
    table = jl.read_table(ROOT / "data" / "sample" / "customers.csv")[0]
    folder = run.folder
    by = jl.Segments("segment", top=6, customers=table)
    readings = jl.report.segment_readings
    stages = jl.stage_funnel(events, profile=profile, unmapped="ignore", by=by)
    stage_text = outputs(folder, "02_funnels", "9d69f62a")
    hidden = readings.segment_funnels_reading(stages, min_cell=MIN_CELL)
    assert hidden in stage_text
    # The threshold matters here: the reading without it says something else.
    assert readings.segment_funnels_reading(stages) != hidden
    # The funnel by segment, drawn (not a widget) and read from what may be shown.
    split = jl.funnel(events, list(profile.funnel), window="30D", order="ordered", by=by)
    builder = outputs(folder, "02_funnels", "518f75e9")
    assert "FunnelBuilder(" not in builder and "Figure size" in builder
    assert jl.report.readings.breakdown_reading(split, min_cell=MIN_CELL) in builder
    period = profile.period
    curve = jl.retention_curve(jl.retention(events, period=period, by=by))
    curves = outputs(folder, "03_retention", "3c0e5b17")
    assert "CohortExplorer(" not in curves
    assert readings.segment_retention_reading(curve, period, min_cell=MIN_CELL) in curves
    churn = jl.churn_rate(events, period=period, inactivity=profile.inactivity, by=by)
    churn_text = outputs(folder, "03_retention", "2dcf700c")
    assert readings.segment_churn_reading(churn, min_cell=MIN_CELL) in churn_text
