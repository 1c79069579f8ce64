"""`journey churn train|score|evaluate`, run as users run it: a subprocess."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import journey_lib as jl
from journey_lib.churn import build_dataset, build_features, load
from journey_lib.churn.model import fingerprint
from journey_lib.churn.persist import FORMAT, FORMAT_VERSION
from tests.test_churn_persist import Sneaky
from tests.test_cli import assert_one_line_error, journey

CUTOFF, HORIZON = "2024-07-01", "60D"


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """A simulated log and customer table on disk, and a model trained on them by the CLI."""
    folder = tmp_path_factory.mktemp("churn")
    sim = jl.simulate(3000, seed=6, progress=False)
    sim.events.to_parquet(folder / "log.parquet")
    sim.customers.to_parquet(folder / "customers.parquet")
    trained = journey(
        "churn", "train", folder / "log.parquet", "--cutoff", CUTOFF, "--horizon", HORIZON,
        "--customers", folder / "customers.parquet", "--model", "logistic",
        "--out", folder / "model.skops",
    )  # fmt: skip
    return folder, sim, trained


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)  # referrer_id is dropped
        return function(*args, **kwargs)


def test_train_builds_splits_fits_and_saves_what_python_would(log):
    folder, sim, trained = log
    assert trained.returncode == 0, trained.stderr
    assert "churn dataset at 2024-07-01" in trained.stdout
    assert "roc_auc" in trained.stdout and "held out (25%)" in trained.stdout
    assert "journey: warning: customer columns ['referrer_id']" in trained.stderr
    model = load(folder / "model.skops")
    X, y = dataset = _quiet(
        build_dataset, sim.events, cutoff=CUTOFF, horizon=HORIZON, customers=sim.customers
    )
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    assert model.training["fingerprint"] == fingerprint(X_train, y_train)
    assert model.recipe == dataset.recipe and model.recipe.customers is True
    card = model.card
    assert card["model"] == "logistic" and card["built_from"]["horizon"] == HORIZON
    assert card["built_from"] == dataset.recipe.to_dict()
    assert {r["metric"] for r in card["metrics"]["table"]} >= {"roc_auc", "brier", "ece"}


def test_score_ranks_everyone_active_at_the_end_of_the_log(log):
    folder, sim, _ = log
    out = folder / "scores.csv"
    result = journey(
        "churn", "score", folder / "model.skops", folder / "log.parquet",
        "--customers", folder / "customers.parquet", "--reasons", 2, "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out)
    last = sim.events["timestamp"].max()
    cutoff = last.floor("D") + pd.Timedelta(days=1)
    assert f"scoring as of {cutoff:%Y-%m-%d} 00:00 UTC" in result.stdout
    model = load(folder / "model.skops")
    X = _quiet(build_features, sim.events, cutoff=cutoff, customers=sim.customers).X
    expected = model.predict_proba(model.align(X))
    assert sorted(scores["customer_id"]) == sorted(expected.index)
    assert scores["rank"].tolist() == list(range(1, len(scores) + 1))
    assert scores["churn_probability"].is_monotonic_decreasing
    by_customer = scores.set_index("customer_id")["churn_probability"]
    np.testing.assert_allclose(by_customer[expected.index], expected, rtol=1e-12)
    assert {"reason_1", "reason_1_effect", "reason_1_values", "reason_2"} <= set(scores)
    assert (scores["reason_1_effect"].dropna() > 0).all()


def test_score_with_an_offer_writes_the_contact_list(log):
    folder, sim, _ = log
    out = folder / "plan.csv"
    result = journey(
        "churn", "score", folder / "model.skops", folder / "log.parquet",
        "--customers", folder / "customers.parquet", "--offer-cost", 5, "--save-rate", 0.3,
        "--value", 200, "--budget", 25, "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = pd.read_csv(out)
    # The same customers scored in Python: contacting pays when p * 0.3 * 200 exceeds the
    # offer's 5, and the budget keeps the 25 riskiest of those.
    model = load(folder / "model.skops")
    cutoff = sim.events["timestamp"].max().floor("D") + pd.Timedelta(days=1)
    X = _quiet(build_features, sim.events, cutoff=cutoff, customers=sim.customers).X
    probability = model.predict_proba(X)
    paying = probability[probability * 0.3 * 200 - 5 > 0]
    assert len(paying) > 25  # so that the budget binds
    riskiest = paying.sort_values(ascending=False).index[:25]
    contacted = plan.loc[plan["contact"], "customer_id"]
    assert plan["contact"].sum() == 25 and plan["contact"].iloc[:25].all()
    assert sorted(contacted) == sorted(riskiest)
    assert plan["expected_value"].is_monotonic_decreasing
    assert (plan["value"] == 200).all()
    assert "contact " in result.stdout and "budget of 25" in result.stdout


def test_evaluate_rebuilds_labels_at_a_later_cutoff(log):
    folder, sim, _ = log
    out = folder / "metrics.csv"
    result = journey(
        "churn", "evaluate", folder / "model.skops", folder / "log.parquet",
        "--customers", folder / "customers.parquet", "--cutoff", "2024-09-01",
        "--bootstraps", 20, "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = pd.read_csv(out).set_index(["scorer", "metric"])
    model = load(folder / "model.skops")
    X, y = _quiet(
        build_dataset, sim.events, cutoff="2024-09-01", horizon=HORIZON, customers=sim.customers
    )
    expected = roc_auc_score(y, model.predict_proba(model.align(X)))
    assert metrics.loc[("logistic", "roc_auc"), "value"] == pytest.approx(expected)
    assert f"{len(X):,} customers" in result.stdout


def test_a_customer_table_trains_scores_and_evaluates_by_its_label(tmp_path):
    rng = np.random.default_rng(3)
    n = 600
    table = pd.DataFrame(
        {
            "customerID": [f"C{i:04d}" for i in range(n)],
            "tenure": rng.integers(0, 72, n),
            "Contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
        }
    )
    risk = 0.05 + 0.4 * (table["Contract"] == "Month-to-month") * (table["tenure"] < 24)
    table["Churn"] = np.where(rng.random(n) < risk, "Yes", "No")
    table.to_csv(tmp_path / "table.csv", index=False)
    trained = journey(
        "churn", "train", tmp_path / "table.csv", "--label", "Churn", "--model", "logistic",
        "--out", tmp_path / "t.skops",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    model = load(tmp_path / "t.skops")
    assert model.card["built_from"] == {"label": "Churn", "id": "customerID"}
    assert "labels from column `Churn`" in model.describe()
    assert model.training["settings"] == "small"
    # --settings large on the same table: too few churners in a held-out tenth of the 450
    # trained to calibrate on, said in one line; without calibration it trains.
    large = journey(
        "churn", "train", tmp_path / "table.csv", "--label", "Churn", "--settings", "large",
        "--out", tmp_path / "large.skops",
    )  # fmt: skip
    assert_one_line_error(large, 2, "rarer label (44 in 450 rows), fewer than 20")
    large = journey(
        "churn", "train", tmp_path / "table.csv", "--label", "Churn", "--settings", "large",
        "--calibrate", "none", "--out", tmp_path / "large.skops",
    )  # fmt: skip
    assert large.returncode == 0, large.stderr
    training = load(tmp_path / "large.skops").training
    assert (training["settings"], training["calibration_rows"]) == ("large", 0)
    wrong = journey("churn", "train", tmp_path / "table.csv", "--label", "Churn",
                    "--settings", "huge", "--out", tmp_path / "x.skops")  # fmt: skip
    assert wrong.returncode == 2 and "--settings" in wrong.stderr and "huge" in wrong.stderr
    scored = journey(
        "churn", "score", tmp_path / "t.skops", tmp_path / "table.csv",
        "--out", tmp_path / "s.csv",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    scores = pd.read_csv(tmp_path / "s.csv")
    assert scores.columns[0] == "customerID" and len(scores) == n
    # A value column the model never saw (here a CLV) can price the offer.
    table.assign(clv=np.arange(n, dtype=float)).to_csv(tmp_path / "valued.csv", index=False)
    offered = journey(
        "churn", "score", tmp_path / "t.skops", tmp_path / "valued.csv", "--offer-cost", 5,
        "--save-rate", 0.5, "--value", "clv", "--out", tmp_path / "o.csv",
    )  # fmt: skip
    assert offered.returncode == 0, offered.stderr
    contacts = pd.read_csv(tmp_path / "o.csv").set_index("customerID")
    assert (contacts["value"] == contacts.index.str[1:].astype(int)).all()
    evaluated = journey("churn", "evaluate", tmp_path / "t.skops", tmp_path / "table.csv")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "roc_auc" in evaluated.stdout and f"{n:,} customers" in evaluated.stdout


def test_churn_usage_and_input_errors_are_one_line(log, tmp_path):
    folder, _, _ = log
    model, data = folder / "model.skops", folder / "log.parquet"
    assert_one_line_error(
        journey("churn", "score", model, data, "--out", tmp_path / "s.csv"),
        2,
        "was trained with a customer table; pass it with --customers",
    )
    assert_one_line_error(
        journey("churn", "score", model, data, "--offer-cost", 3, "--out", tmp_path / "s.csv"),
        2,
        "needs both --offer-cost and --save-rate",
    )
    assert_one_line_error(
        journey("churn", "train", data, "--cutoff", "2030-01-01", "--out", tmp_path / "m.skops"),
        2,
        "lies outside the log",
    )
    assert_one_line_error(
        journey("churn", "train", data, "--out", tmp_path / "m.skops"),
        2,
        "one of the arguments --cutoff --label is required",
    )
    odd = {"format": FORMAT, "format_version": FORMAT_VERSION, "x": Sneaky("never")}
    sio.dump(odd, tmp_path / "odd.skops")
    assert_one_line_error(
        journey("churn", "evaluate", tmp_path / "odd.skops", data),
        2,
        "that journey-lab models never contain",
    )
    (tmp_path / "garbage.skops").write_text("not a model")
    assert_one_line_error(
        journey("churn", "score", tmp_path / "garbage.skops", data, "--out", tmp_path / "s.csv"),
        2,
        "cannot be read as a skops file",
    )
    assert journey("churn", "--help").returncode == 0
    assert journey("churn").returncode == 2
    # A model trained in Python without a recipe cannot have its features rebuilt.
    X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50})
    bare = jl.churn.train(X, (X["tickets"] >= 2).astype(int), model="logistic")
    bare.save(tmp_path / "bare.skops")
    for command in ("score", "evaluate"):
        assert_one_line_error(
            journey("churn", command, tmp_path / "bare.skops", data, "--out", tmp_path / "x.csv"),
            2,
            "does not record how its features were built",
        )
