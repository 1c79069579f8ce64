"""Time to churn in the churn notebook: the report data's lifetimes on a log and on customer
tables, privacy of the curves, the readings, and the Cox model's refusals on data it cannot
fit (a separated level, repeated columns, a constant)."""

import numpy as np
import pandas as pd
import pytest
from engines import shared_file

import journey_lib as jl
from journey_lib.report.survival_readings import hazard_reading, survival_reading
from journey_lib.survival import (
    CoxModel,
    brier_score,
    customer_lifetimes,
    kaplan_meier,
    simulate_lifetimes,
    time_dependent_auc,
)


def test_a_logs_lifetimes_with_its_segments():
    sim = jl.simulate(1500, seed=8)
    data = jl.report.open_data(sim.events, quiet=True)
    data.customers = sim.customers
    life, by, unit = data.lifetimes()
    assert unit == "days" and 1 <= len(by) <= 3
    # Ordered by how much the curves differ: the first column's log-rank statistic (per
    # degree of freedom) is the largest of the three.
    strength = []
    for column in by:
        test = jl.survival.logrank_test(life, by=column)
        strength.append(test.statistic / test.dof)
    assert strength == sorted(strength, reverse=True)
    # The lifetimes are customer_lifetimes' with the profile (no cutoff: to the log's end).
    want = customer_lifetimes(sim.events, profile=data.profile)
    pd.testing.assert_frame_equal(
        life[["customer_id", "duration", "churned"]],
        want[["customer_id", "duration", "churned"]].astype({"churned": bool}),
        check_dtype=False,
    )
    # Each segment column is read alone: the plans are the customer table's.
    if "plan" in by:
        plans = life.set_index("customer_id")["plan"]
        table = sim.customers.set_index("customer_id")["plan"].astype("string")
        bought = table.loc[plans.index].notna()
        assert (plans[bought] == table.loc[plans.index][bought]).all()


@pytest.mark.parametrize(
    ("name", "tenure"),
    [
        ("telco_customer_churn.csv", "tenure"),
        ("bank_customer_churn.csv", "Tenure"),
        ("telecom_churn_bigml_80.csv", "Account length"),
        ("ecommerce_churn.csv", "Tenure"),
    ],
)
def test_customer_tables_tenure(name, tenure, capsys):
    data = jl.report.open_data(str(shared_file("churn", name)), quiet=True)
    assert data.why_not("survival") is None
    life, by, unit = data.lifetimes()
    assert unit == tenure
    raw = pd.read_csv(shared_file("churn", name))
    kept = raw[tenure].notna().sum()
    assert len(life) == kept
    if kept < len(raw):  # ecommerce: 264 customers without a tenure, said so
        assert f"{len(raw) - kept:,} customers have no {tenure}" in capsys.readouterr().out
    # The chosen columns split customers in different ways: the Cox model fits them.
    model = CoxModel().fit(life, features=by)
    assert np.isfinite(model.summary_["coef"]).all()


def test_telco_skips_a_column_that_repeats_another():
    data = jl.report.open_data(str(shared_file("churn", "telco_customer_churn.csv")), quiet=True)
    life, by, _ = data.lifetimes(limit=6)
    # "No internet service" is the same customers in six columns: one of them at most.
    internet = [c for c in by if (life[c] == "No internet service").any()]
    assert len(internet) <= 1
    assert by[0] == "Contract"


def test_a_table_without_tenure_says_so():
    table = pd.DataFrame({"id": range(40), "churn": ["Yes", "No"] * 20, "plan": ["a", "b"] * 20})
    data = jl.report.open_data(table, quiet=True)
    assert "no tenure column" in data.why_not("survival")


def test_no_churn_yet_is_a_clear_reason():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-20", "2024-01-05", "2024-01-21"], utc=True
            ),
            "event": ["visit"] * 4,
        }
    )
    data = jl.report.open_data(
        log,
        jl.LogProfile(
            columns={c: c for c in ("customer_id", "timestamp", "event")}, inactivity="90D"
        ),
        quiet=True,
    )
    with pytest.raises(jl.JourneyDataError, match="no customer's lifetime has ended in churn"):
        data.lifetimes()


def test_private_curves_hide_small_segments_and_tails():
    data = pd.DataFrame(
        {"duration": np.arange(1, 31), "churned": 1, "plan": ["a"] * 26 + ["b"] * 4}
    )
    curves = kaplan_meier(data, by="plan")
    shown = curves.private(5)
    assert set(shown.table["plan"]) == {"a"}
    assert shown.table["at_risk"].min() == 5
    assert curves.private(0) is curves


def test_readings_name_segments_and_references():
    data = pd.DataFrame(
        {
            "duration": [1, 2, 3, 4, 5, 6, 30, 40, 50, 60, 70, 80],
            "churned": [1] * 6 + [0] * 6,
            "plan": ["basic"] * 6 + ["premium"] * 6,
        }
    )
    text = survival_reading(kaplan_meier(data, by="plan"), unit="months")
    assert text.startswith("Half of the customers with plan basic have left by 3 months")
    assert "100.0% of those with plan premium are still there at 80 months" in text
    assert "log-rank test" in text
    # A table's own unit goes first.
    assert "by tenure 3" in survival_reading(kaplan_meier(data, by="plan"), unit="tenure")
    one = survival_reading(kaplan_meier(data))
    assert one.startswith("Half of the customers have left by") and "log-rank" not in one
    summary = pd.DataFrame(
        {
            "customers": [3, 200, 500],
            "hazard_ratio": [9.0, 0.5, 1.01],
            "low": [2, 0.3, 0.9],
            "high": [40, 0.8, 1.1],
            "p": [0.001, 0.004, 0.8],
        },
        index=pd.Index(["plan=rare", "plan=premium", "age"], name="feature"),
    )
    text = hazard_reading(summary, references={"plan": "basic"}, min_cell=10)
    assert "rare" not in text  # 3 customers: below the threshold
    assert text.startswith(
        "Customers with plan premium leave at 0.50 times the rate of those with plan basic"
    )
    assert text.endswith("The other differences could be chance.")
    assert hazard_reading(summary.assign(p=0.5)).startswith("No feature changes")


def test_cox_refuses_what_it_cannot_fit():
    rng = np.random.default_rng(0)
    n = 300
    data = pd.DataFrame(
        {
            "duration": rng.exponential(50, n).round() + 1,
            "churned": rng.random(n) < 0.7,
            "plan": rng.choice(["a", "b"], n),
        }
    )
    # Every customer of plan b churns at the earliest time: no finite hazard ratio.
    separated = data.copy()
    separated.loc[separated["plan"] == "b", ["duration", "churned"]] = [0.5, True]
    with pytest.raises(jl.JourneyDataError, match=r"no finite estimate for 'plan=.'"):
        CoxModel().fit(separated)
    assert np.isfinite(CoxModel(penalizer=0.1).fit(separated).coef_).all()
    with pytest.raises(jl.JourneyDataError, match=r"'copy=.' repeats the others"):
        CoxModel().fit(data.assign(copy=data["plan"]))
    with pytest.raises(jl.JourneyDataError, match="'same' is the same for every customer"):
        CoxModel().fit(data.assign(same=1.0))
    model = CoxModel().fit(data.assign(plan=data["plan"].where(data.index % 7 != 0)))
    assert model.references_["plan"] in ("a", "b")  # not the missing level
    counts = model.summary_["customers"]
    assert (
        counts.sum()
        == n - (model.references_["plan"] == data["plan"]).where(data.index % 7 != 0, False).sum()
    )


def test_lifetimes_on_spark_equal_pandas(spark):
    sim = jl.simulate(300, seed=3)
    events = sim.events[["customer_id", "timestamp", "event", "channel"]]
    options = {"acquisition": "purchase", "churn_event": "cancellation"}
    want = customer_lifetimes(events, **options)
    got = customer_lifetimes(spark.createDataFrame(events), **options)
    got = got.toPandas().sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(
        got[["customer_id", "duration", "churned"]],
        want[["customer_id", "duration", "churned"]],
        check_dtype=False,
    )


# -- edges an independent review found (each failed before its fix) ----------------------


def test_the_log_rank_test_of_private_curves_is_the_full_one():
    rng = np.random.default_rng(3)
    plan = rng.choice(["a", "b"], 200)
    life = rng.exponential(50, 200) * np.where(plan == "b", 1.4, 1.0)
    data = pd.DataFrame({"duration": np.ceil(life), "churned": 1, "plan": plan})
    full = kaplan_meier(data, by="plan")
    assert full.private(20).logrank().p_value == pytest.approx(full.logrank().p_value)
    assert len(full.private(20).table) < len(full.table)


def test_the_median_at_exactly_one_half():
    data = pd.DataFrame(
        {
            "duration": [10, 1, 18, 17, 1, 9, 13, 11, 1, 7, 3, 7],
            "churned": [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1],
        }
    )
    # 12 at risk: after 1 (3 churn), 3, 7 (2 churn): 6 of 12 left, S = 0.5 exactly.
    assert kaplan_meier(data).median()["median"].item() == 7.0


def test_nobody_left_says_nothing():
    km = kaplan_meier(pd.DataFrame({"duration": [1, 2, 3, 4], "churned": [1, 0, 1, 0]}))
    cond = km.conditional(10, 5)
    assert cond["at_risk"].item() == 0 and np.isnan(cond["survival"].item())
    # A curve that ends at 4 with customers still there has no mean to 100.
    assert np.isnan(km.restricted_mean(100)["mean"].item())
    assert km.restricted_mean(3)["low"].item() >= 0


def test_a_log_rank_test_over_two_columns_with_a_missing_value():
    data = pd.DataFrame(
        {
            "duration": [1, 2, 3, 4, 5, 6],
            "churned": [1] * 6,
            "plan": ["a", None, "a", "b", "b", None],
            "x": ["u", "u", "v", "v", "u", "v"],
        }
    )
    test = kaplan_meier(data, by=["plan", "x"]).logrank()
    assert any("(missing)" in str(s) for s in test.table["segment"])


def test_segments_with_missing_values_that_repeat_another_are_skipped():
    from journey_lib.report.lifetimes import _distinct_splits

    a = pd.Series(["x", "y", None] * 20)
    life = pd.DataFrame({"A": a, "B": np.where(a.isna(), "none", "some")})
    assert _distinct_splits(life, ["A", "B"], 3) == ["A"]


def test_a_table_with_its_own_duration_column():
    table = pd.DataFrame(
        {
            "customer_id": range(60),
            "Churn": ["Yes", "No", "No"] * 20,
            "tenure": np.arange(60) % 24 + 1,
            "duration": 5.0,
            "Contract": ["m", "y"] * 30,
        }
    )
    data = jl.report.open_data(table, quiet=True)
    life, _, unit = data.lifetimes()
    assert unit == "tenure" and life["duration"].tolist() == table["tenure"].tolist()


def test_censoring_weights_where_the_curve_is_zero():
    # Churn and censoring tie at the last time: G is 0 there; that churner weighs 0, as in
    # scikit-survival, instead of an infinite score.
    got = brier_score([1, 2, 2], [1, 1, 0], [[0.5], [0.5], [0.5]], [1.5])["brier"].item()
    assert np.isfinite(got)
    with pytest.raises(jl.JourneyDataError, match="outside the test customers' follow-up"):
        time_dependent_auc([1, 2, 3, 4], [1, 1, 0, 1], [0.9, 0.6, 0.5, 0.1], [1.5, 10])
    # A time with no AUC (no churner by 1.5) counts in neither sum of the mean.
    table, mean = time_dependent_auc(
        [1, 2, 3, 4, 6], [0, 1, 0, 1, 0], [0.9, 0.6, 0.5, 0.1, 0.0], [1.5, 3.5]
    )
    assert np.isnan(table["auc"].iloc[0]) and np.isfinite(table["auc"].iloc[1])
    assert mean == pytest.approx(table["auc"].iloc[1])


def test_cox_without_churn_and_past_its_data():
    data = simulate_lifetimes(400, seed=9)
    with pytest.raises(jl.JourneyDataError, match="no customer has churned"):
        CoxModel().fit(data.assign(churned=0))
    model = CoxModel().fit(data)
    last = model.baseline_["time"].iloc[-1]
    customers = data.head(3).assign(duration=[10.0, last, last + 50])
    got = model.expected_remaining(customers)
    assert np.isfinite(got[0]) and np.isnan(got[1]) and np.isnan(got[2])
    # A horizon past the data is cut at its last time.
    capped = model.expected_remaining(customers.head(1), horizon=10 * last)
    assert capped[0] == pytest.approx(got[0])


def test_the_churn_model_and_a_cox_model_side_by_side_on_one_holdout():
    from sklearn.model_selection import train_test_split

    from journey_lib.report.lifetimes import holdout_comparison, lifetimes_after

    sim = jl.simulate(4000, seed=12)
    data = jl.report.open_data(sim.events, quiet=True)
    cutoff = "2024-08-01"
    X, y = jl.churn.build_dataset(sim.events, profile=data.profile, cutoff=cutoff)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    model = jl.churn.train(X_train, y_train, model="logistic", random_state=0)
    probability = model.predict_proba(X_test)
    groups = model.importance(X_test, y_test, n_repeats=2, random_state=0).top(10)
    table = holdout_comparison(data, probability, X_train, X_test, cutoff, "90D", groups)
    assert table["model"].tolist() == ["churn model", "Cox model"]
    rows = table.set_index("model")
    # Both rank who leaves far better than chance; only the Cox model gives whole curves.
    assert (rows["auc"] > 0.75).all() and (rows["concordance"] > 0.7).all()
    assert np.isnan(rows.loc["churn model", "integrated_brier"])
    assert np.isfinite(rows.loc["Cox model", "integrated_brier"])
    # The churn model's row is compare_predictions' on the lifetimes after the cutoff.
    after = lifetimes_after(customer_lifetimes(sim.events, profile=data.profile), cutoff)
    held = after.loc[X_test.index]
    direct = jl.survival.compare_predictions(
        held["duration"],
        held["churned"],
        {"churn model": probability.to_numpy()},
        90.0,
        train=tuple(after.loc[X_train.index, c] for c in ("duration", "churned")),
    )
    pd.testing.assert_frame_equal(table.iloc[:1], direct)
    reading = jl.report.readings.comparison_of_models_reading(table, horizon="90D")
    assert reading.startswith("On the same held-out customers, the ")
    assert "within 90 days" in reading
    # A customer table's label has no horizon to compare at.
    telco = pd.DataFrame({"customer_id": range(40), "churned": [0, 1] * 20, "tenure": 5})
    table_data = jl.report.open_data(telco, quiet=True)
    with pytest.raises(jl.JourneyDataError, match="no horizon"):
        holdout_comparison(table_data, [0.5] * 12, X_train, X_test, cutoff, "90D", groups)
